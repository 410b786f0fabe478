import { fileURLToPath } from 'node:url';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue } from '../src/index.ts';
import { sleep, waitFor } from './helpers.ts';

// Workers in 4 processes, on the built package: pause, per-group limits and cancel must hold
// across processes, not only within one.
const fixture = fileURLToPath(new URL('./fixtures/flow-child.mjs', import.meta.url));

function spawn(config: Record<string, unknown>) {
  const child = startChild(fixture, [JSON.stringify(config)], { stderr: 'inherit' });
  const lines = (tag: string) => child.lines.filter((l) => l.startsWith(tag)).map((l) => l.slice(2));
  return {
    lines,
    ready: child.line('READY', 30_000),
    async stop() {
      if (child.process.exitCode === null && child.process.signalCode === null)
        child.process.stdin?.end('stop\n');
      await child.exited;
    },
  };
}

describe.each(topologies())('flow control across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('flowp');
  let n = 0;

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('never runs more than the group limit of any of 50 groups across 4 processes', async () => {
    const name = `g${++n}`;
    const queue = createQueue<{ g: string }>({ redis, prefix, name });
    await queue.setLimits({ group: { concurrency: 2 } });
    const jobs = Array.from({ length: 600 }, (_, i) => {
      const g = `grp${i % 50}`;
      return { payload: { g }, options: { group: g } };
    });
    await queue.addBulk(jobs);
    const children = Array.from({ length: 4 }, () =>
      spawn({ url, name, prefix, concurrency: 16, workMs: 20, groupLimit: 2 }),
    );
    await Promise.all(children.map((c) => c.ready));
    const completed = () => children.reduce((sum, c) => sum + c.lines('C ').length, 0);
    await waitFor(() => completed() === 600, 'all 600 jobs', 40_000);
    await Promise.all(children.map((c) => c.stop()));
    expect(children.flatMap((c) => c.lines('V '))).toEqual([]);
    // Held back by the limit, not by lack of workers: the counter saw groups at the limit.
    expect(await queue.counts()).toMatchObject({ waiting: 0, active: 0, completed: 600 });
    await queue.purge();
  });

  it('holds all 4 processes while paused, and runs the rest on resume', async () => {
    const name = `p${++n}`;
    const queue = createQueue<{ wait?: boolean }>({ redis, prefix, name });
    const children = Array.from({ length: 4 }, () =>
      spawn({ url, name, prefix, concurrency: 4, workMs: 5, pollIntervalMs: 200 }),
    );
    await Promise.all(children.map((c) => c.ready));
    await queue.pause();
    await sleep(300); // every worker has seen the pause (pollIntervalMs)
    await queue.addBulk(Array.from({ length: 100 }, () => ({ payload: {} })));
    await sleep(1_000);
    const started = () => children.reduce((sum, c) => sum + c.lines('S ').length, 0);
    expect(started()).toBe(0);
    expect(await queue.counts()).toMatchObject({ waiting: 100, paused: true });
    await queue.resume();
    await waitFor(
      () => children.reduce((s, c) => s + c.lines('C ').length, 0) === 100,
      'the jobs after resume',
    );
    await Promise.all(children.map((c) => c.stop()));
    await queue.purge();
  });

  it('cancels a job running in another process', async () => {
    const name = `c${++n}`;
    const queue = createQueue<{ wait?: boolean }>({ redis, prefix, name });
    const child = spawn({ url, name, prefix, concurrency: 2 });
    await child.ready;
    await queue.add({ wait: true }, { id: 'endless', attempts: 3 });
    await waitFor(() => child.lines('S ').includes('endless'), 'the job to start in the child');
    expect(await queue.cancel('endless')).toBe('cancelling');
    await waitFor(() => child.lines('D ').length === 1, 'the job to be recorded cancelled', 5_000);
    expect(child.lines('A ')).toEqual(['endless JobCancelledError']);
    expect(child.lines('D ')).toEqual(['endless cancelled']);
    await sleep(300);
    expect(child.lines('S ')).toEqual(['endless']); // not retried
    await child.stop();
    expect(await queue.get('endless')).toMatchObject({ state: 'dead', deadReason: 'cancelled' });
    await queue.purge();
  });
});
