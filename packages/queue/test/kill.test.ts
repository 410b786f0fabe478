import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue } from '../src/index.ts';
import { type ChildWorker, spawnWorker, waitFor } from './helpers.ts';

// Worker processes run the BUILT package: build connection and queue (tsc -p tsconfig.build.json) first.
const JOBS = 10_000;

describe.each(topologies())('worker processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('kill');

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('completes all 10,000 jobs when one of 4 workers is killed -9; only its in-flight jobs run twice', async () => {
    const name = 'kill';
    const queue = createQueue<{ n: number }>({ redis, prefix, name });
    await queue.addBulk(
      Array.from({ length: JOBS }, (_, n) => ({ payload: { n }, options: { id: `j${n}` } })),
    );
    const workers: ChildWorker[] = Array.from({ length: 4 }, () =>
      spawnWorker({ url, name, prefix, concurrency: 16, leaseMs: 1_500, workMs: 3 }),
    );
    try {
      await Promise.all(workers.map((w) => w.ready));
      const victim = workers[0] as ChildWorker;
      const survivors = workers.slice(1);
      // Kill once the victim is busy and a quarter of the work is done.
      await waitFor(
        async () => victim.started.length > 200 && (await queue.counts()).completed >= JOBS / 4,
        'a quarter of the jobs',
        30_000,
      );
      victim.child.kill('SIGKILL');
      await victim.exited;
      await waitFor(async () => (await queue.counts()).completed === JOBS, 'all jobs completed', 60_000);
      await Promise.all(survivors.map((w) => w.stop()));

      // In flight in the victim: started there, completion never confirmed to it.
      const inFlight = new Set(victim.started.filter((id) => !victim.completed.has(id)));
      expect(inFlight.size).toBeGreaterThan(0);
      const runs = new Map<string, number>();
      for (const w of workers) for (const id of w.started) runs.set(id, (runs.get(id) ?? 0) + 1);
      expect(runs.size).toBe(JOBS);
      const twice = [...runs].filter(([, count]) => count > 1).map(([id]) => id);
      for (const id of twice) expect(inFlight.has(id), `${id} ran twice`).toBe(true);
      for (const id of twice) expect([...runs].find(([k]) => k === id)?.[1]).toBe(2);

      const confirmed = new Set(workers.flatMap((w) => [...w.completed]));
      const unconfirmed = [...runs.keys()].filter((id) => !confirmed.has(id));
      // Only the victim can have run a job whose completion no one saw (killed mid-reply).
      for (const id of unconfirmed) expect(inFlight.has(id)).toBe(true);
      expect(await queue.counts()).toMatchObject({
        waiting: 0,
        active: 0,
        delayed: 0,
        dead: 0,
        completed: JOBS,
        added: JOBS,
      });
      const key = (part: string) => `${prefix}{${name}}:${part}`;
      expect(await redis.send(['ZCARD', key('leases')], { key: key('leases') })).toBe(0);
      expect(await redis.send(['LLEN', key('active')], { key: key('active') })).toBe(0);
      expect(await redis.send(['HLEN', key('owners')], { key: key('owners') })).toBe(0);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await queue.purge();
    }
  }, 90_000);
});
