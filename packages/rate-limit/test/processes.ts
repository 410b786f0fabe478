import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const worker = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

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
  if (!existsSync(dist)) {
    throw new Error(
      'The multi-process tests import the built package: run `npx tsc -p tsconfig.build.json` in packages/connection and packages/rate-limit first.',
    );
  }
  const children = jobs.map((job) => spawn(process.execPath, [worker, JSON.stringify(job)]));
  try {
    const outputs = children.map((child) => linesOf(child));
    await Promise.all(outputs.map((o) => o.next('ready')));
    for (const child of children) child.stdin.write('go\n');
    return await Promise.all(outputs.map(async (o) => JSON.parse(await o.next()) as T));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

function linesOf(child: ChildProcessWithoutNullStreams) {
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next(expected?: string): Promise<string> {
      const { value, done } = await lines.next();
      if (done || (expected !== undefined && value !== expected)) {
        throw new Error(`worker said ${JSON.stringify(value)} (exit ${child.exitCode}); stderr: ${stderr}`);
      }
      return value as string;
    },
  };
}
