import { connect, type RedisConnection } from '@redis-patterns/connection';
import { failoverDrill } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createQueue, createWorker, type Queue, type Worker } from '../src/index.ts';
import { waitFor } from './helpers.ts';

describe.each(['cluster', 'sentinel'] as const)('queue through a %s failover', (topology) => {
  it('runs every acknowledged add at least once, keeps the worker going, and fails only with typed errors', async () => {
    // When each add was acknowledged (performance.now()), and the ids Redis no longer has.
    const acknowledged = new Map<string, number>();
    const lost: string[] = [];
    const runs = new Map<string, number>();
    const workerErrors: Record<string, number> = {};
    const report = await failoverDrill<{
      redis: RedisConnection;
      queue: Queue<number>;
      worker: Worker<number>;
    }>({
      topology,
      key: 'queue:{drill}',
      concurrency: 4,
      async setup(url) {
        const redis = await connect({ url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 200 } });
        const queue = createQueue<number>({ redis, name: 'drill' });
        const worker = createWorker(queue, ({ id }) => void runs.set(id, (runs.get(id) ?? 0) + 1), {
          concurrency: 20,
          leaseMs: 2_000,
          pollIntervalMs: 200,
        });
        worker.on('error', (err) => {
          const code = (err as { code?: string }).code ?? `untyped: ${err.name}: ${err.message}`;
          workerErrors[code] = (workerErrors[code] ?? 0) + 1;
        });
        worker.start();
        return { redis, queue, worker };
      },
      async operation({ queue }, n) {
        // A retry after an unknown outcome would reuse the id: adds are idempotent by id.
        await queue.add(n, { id: `j${n}` });
        acknowledged.set(`j${n}`, performance.now());
      },
      async check({ queue }, { killedAt, diedAt }) {
        // Every acknowledged job runs, but one the old master acknowledged just before it died and
        // never passed to its replica (asynchronous replication): it is gone, and counted.
        const pending = async () => {
          for (const id of acknowledged.keys()) {
            if (runs.has(id) || lost.includes(id)) continue;
            if ((await queue.get(id)) !== undefined) return true;
            if (!runs.has(id)) lost.push(id);
          }
          return false;
        };
        await waitFor(async () => !(await pending()), 'every acknowledged job', 30_000).catch(async (err) => {
          // Where the jobs that did not run are, for the failure message.
          const waiting = [...acknowledged.keys()].filter((id) => !runs.has(id) && !lost.includes(id));
          const seen = await Promise.all(waiting.slice(0, 5).map((id) => queue.get(id).catch(String)));
          throw new Error(
            `${(err as Error).message}: ${waiting.length} not run, e.g. ${JSON.stringify(seen)}`,
          );
        });
        for (const id of lost) {
          const at = acknowledged.get(id) as number;
          // The dead master answered nothing after it exited; its last replies may still be read a
          // few ms after the exit was seen (the event loop does not order the two).
          expect(
            at,
            `${id} was lost though acknowledged ${Math.round(at - diedAt)} ms after the master died`,
          ).toBeLessThan(diedAt + 50);
          expect(killedAt - at, `${id} was lost though acknowledged well before the kill`).toBeLessThan(
            1_000,
          );
        }
      },
      async teardown({ redis, worker }) {
        await worker.stop({ drainTimeoutMs: 2_000 });
        await redis.close();
      },
    });
    const duplicates = [...runs.values()].filter((count) => count > 1).length;
    console.info(`queue ${topology} failover`, report, {
      acknowledged: acknowledged.size,
      lostInReplication: lost.length,
      duplicates,
      workerErrors,
    });
    expect(Object.keys(report.failures).filter((kind) => kind.startsWith('untyped'))).toEqual([]);
    expect(Object.keys(workerErrors).filter((kind) => kind.startsWith('untyped'))).toEqual([]);
    expect(report.slowestMs).toBeLessThan(1_000 + 500 + report.stalledMs);
    expect(report.healedAfterMs).toBeLessThan(15_000);
  });
});
