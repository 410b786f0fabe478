import { connect } from '@redis-patterns/connection';
import { startRedis } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createQueue, createWorker } from '../src/index.ts';
import { sleep, waitFor } from './helpers.ts';

// Each test owns its redis-server (forceBinary) so it may crash it or count every key in it.
describe('queue with its own redis-server', () => {
  it('loses no acknowledged add when Redis crashes and restarts (appendonly); workers reconnect and finish', async () => {
    const server = await startRedis({
      forceBinary: true,
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    const redis = await connect({ url: server.url, commandTimeoutMs: 1_000 });
    try {
      const queue = createQueue<number>({ redis, name: 'restart' });
      const processed = new Set<string>();
      const worker = createWorker(
        queue,
        async ({ id }) => {
          processed.add(id);
          await sleep(1);
        },
        { concurrency: 8, leaseMs: 3_000, pollIntervalMs: 200 },
      );
      const errors: Error[] = [];
      worker.on('error', (error) => errors.push(error));
      worker.start();

      const acknowledged: string[] = [];
      let failedAdds = 0;
      const total = 1_500;
      const producer = (async () => {
        for (let i = 0; i < total; i++) {
          const id = `job-${i}`;
          // An add that failed may or may not have been applied: retrying with the same id is safe.
          for (;;) {
            try {
              await queue.add(i, { id });
              acknowledged.push(id);
              // Paced, so the producer is surely still adding when the server is killed below.
              await sleep(2);
              break;
            } catch {
              failedAdds++;
              await sleep(50);
            }
          }
        }
      })();
      await waitFor(() => acknowledged.length >= 500, '500 acknowledged adds');
      await server.kill();
      await sleep(300);
      await server.restart();
      await producer;
      await waitFor(() => acknowledged.every((id) => processed.has(id)), 'every acknowledged job', 30_000);
      await worker.stop();

      expect(failedAdds).toBeGreaterThan(0); // the crash really happened under the producer
      expect(errors.length).toBeGreaterThan(0); // and under the worker
      expect(acknowledged).toHaveLength(total);
      const counts = await queue.counts();
      expect(counts).toMatchObject({ waiting: 0, active: 0, delayed: 0, dead: 0 });
    } finally {
      await redis.close();
      await server.stop();
    }
  }, 60_000);

  it('holds only counters after 100,000 completed jobs with default options', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url });
    try {
      const usedMemory = async () =>
        Number(/used_memory:(\d+)/.exec(String(await redis.send(['INFO', 'memory'])))?.[1]);
      const queue = createQueue<{ n: number; note: string }>({ redis, name: 'memory' });
      const before = await usedMemory();
      const worker = createWorker(queue, () => {}, { concurrency: 100 });
      worker.start();
      for (let start = 0; start < 100_000; start += 10_000) {
        await queue.addBulk(
          Array.from({ length: 10_000 }, (_, i) => ({ payload: { n: start + i, note: 'x'.repeat(100) } })),
        );
      }
      await waitFor(async () => (await queue.counts()).completed === 100_000, '100,000 jobs', 60_000);
      await worker.stop();
      expect(await redis.send(['DBSIZE'])).toBe(1);
      const stats = 'queue:{memory}:stats';
      expect(await redis.send(['KEYS', '*'])).toEqual([stats]);
      const statsBytes = Number(await redis.send(['MEMORY', 'USAGE', stats]));
      expect(statsBytes).toBeLessThan(300);
      // Kept, 100,000 such jobs would take over 20 MB. The few hundred KB that remain are Redis's own
      // tables (the keyspace's hash table shrinks lazily) and the script cache, not jobs.
      expect((await usedMemory()) - before).toBeLessThan(2 * 1024 * 1024);
    } finally {
      await redis.close();
      await server.stop();
    }
  }, 90_000);

  it('ends stop({ drainTimeoutMs }) within its bound from the call, even with a handler running and Redis paused', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 5_000 });
    try {
      const queue = createQueue<number>({ redis, name: 'stop-bound' });
      await queue.add(1, { id: 'slow' });
      let started = false;
      const worker = createWorker(
        queue,
        async ({ signal }) => {
          started = true;
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        },
        { leaseMs: 10_000, pollIntervalMs: 200 },
      );
      worker.on('error', () => {});
      worker.start();
      await waitFor(() => started, 'the handler to start');
      await server.pause();
      const begun = performance.now();
      await worker.stop({ drainTimeoutMs: 800 });
      const elapsed = performance.now() - begun;
      await server.resume();
      // The handler was still running: stop gave up on it, and on Redis, at its bound.
      expect(elapsed).toBeGreaterThanOrEqual(600);
      expect(elapsed).toBeLessThan(800 + 200);
    } finally {
      await server.resume().catch(() => {});
      await redis.close();
      await server.stop();
    }
  });
});
