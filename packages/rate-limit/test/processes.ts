import { fileURLToPath } from 'node:url';
import { assertBuilt, startChild } from '@redis-patterns/testing';

const worker = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));

/** One limiter a worker builds: `kind` names the algorithm factory, `params` its options. */
export interface WorkerLimiter {
  prefix: string;
  kind: 'slidingWindowLog' | 'slidingWindowCounter' | 'fixedWindow' | 'tokenBucket';
  params: Record<string, number>;
}

export interface WorkerJob {
  url: string;
  mode: 'burst' | 'sequence';
  limiters: WorkerLimiter[];
  identifier: string;
  calls: number;
  dateOffsetMs?: number;
}

/**
 * Starts one worker process per job, waits until all are connected, releases them at once and
 * returns each one's parsed output.
 */
export async function runWorkers<T>(jobs: WorkerJob[]): Promise<T[]> {
  assertBuilt(new URL('../dist/index.js', import.meta.url), 'rate-limit');
  const children = jobs.map((job) => startChild(worker, [JSON.stringify(job)]));
  try {
    await Promise.all(children.map((child) => child.line('ready')));
    for (const child of children) child.send('go');
    return await Promise.all(children.map((child) => child.json<T & object>()));
  } finally {
    for (const child of children) if (child.process.exitCode === null) child.process.kill();
  }
}
