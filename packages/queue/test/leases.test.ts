import { connect, OwnershipLostError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createWorker } from '../src/index.ts';
import { waitFor } from './helpers.ts';

describe.each(topologies())('leases on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('leases');
  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('reports no lost lease for jobs that finished while a renewal was in flight (20,000 jobs, short leases)', async () => {
    const queue = createQueue<number>({ redis, prefix, name: 'renewals' });
    const total = 20_000;
    for (let at = 0; at < total; at += 5_000)
      await queue.addBulk(Array.from({ length: 5_000 }, (_, i) => ({ payload: at + i })));
    const lost: Error[] = [];
    const runs = new Map<string, number>();
    // Renewals every 50 ms, while jobs finish and are acknowledged all the time.
    const worker = createWorker(
      queue,
      async ({ id }) => {
        runs.set(id, (runs.get(id) ?? 0) + 1);
        await new Promise((resolve) => setImmediate(resolve));
      },
      { concurrency: 50, leaseMs: 150 },
    );
    worker.on('error', (err) => {
      if (err instanceof OwnershipLostError) lost.push(err);
    });
    worker.start();
    await waitFor(async () => (await queue.counts()).completed === total, 'every job', 60_000);
    await worker.stop();
    // Each job ran exactly once, so no lease was really lost: any report is a false alarm.
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(runs.size).toBe(total);
    expect(lost.map((err) => err.message).slice(0, 3)).toEqual([]);
    await queue.purge();
  });
});
