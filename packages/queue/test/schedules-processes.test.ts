import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createWorker } from '../src/index.ts';
import { type ChildWorker, sleep, spawnWorker, waitFor } from './helpers.ts';

// Scheduler processes are worker processes (test/fixtures/worker-child.mjs): every started worker
// fires the due schedules. They run the BUILT package: build connection and queue first.
const EVERY_MS = 100;

describe.each(topologies())('schedules across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('sched-kill');

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('enqueues each of 200+ runs exactly once across 4 scheduler processes killed -9, all of them at once too', async () => {
    const name = 'sched-kill';
    const queue = createQueue<string>({ redis, prefix, name });
    const spawn = () =>
      spawnWorker({ url, name, prefix, concurrency: 8, leaseMs: 1_000, pollIntervalMs: 100 });
    const all: ChildWorker[] = [];
    let live: ChildWorker[] = [];
    const startFour = async () => {
      live = Array.from({ length: 4 }, spawn);
      all.push(...live);
      await Promise.all(live.map((w) => w.ready));
    };
    /**
     * For `forMs`: SIGKILLs one scheduler, starts another in its place and waits until it is up, then
     * `pauseMs` before the next kill; so three of four are up at any time, and each is killed in turn.
     */
    const churn = async (forMs: number, pauseMs: number) => {
      const end = Date.now() + forMs;
      for (let k = 0; Date.now() < end; k++) {
        const i = k % live.length;
        const victim = live[i] as ChildWorker;
        victim.child.kill('SIGKILL');
        await victim.exited;
        const replacement = spawn();
        live[i] = replacement;
        all.push(replacement);
        await replacement.ready;
        await sleep(pauseMs);
      }
    };
    try {
      await startFour();
      // Declared once the schedulers are up (they see it within their pollIntervalMs). A run is
      // missed once it is 2 s late: three live schedulers never fall that far behind, even on a
      // loaded machine; four dead ones for 3.5 s do.
      const timing = { everyMs: EVERY_MS, missedAfterMs: 2_000 };
      const startAt = Date.now() + 300;
      await queue.schedule('skip', { ...timing, startAt, payload: 'skip', missed: 'skip' });
      await queue.schedule('once', { ...timing, startAt: startAt + 50, payload: 'once', missed: 'once' });
      await sleep(300);
      await churn(7_000, 200);

      // Every scheduler down at once: what was due meanwhile is missed, by each schedule's policy.
      for (const w of live) w.child.kill('SIGKILL');
      await Promise.all(live.map((w) => w.exited));
      const pending = {
        skip: (await queue.getSchedule('skip'))?.nextRunAt as number,
        once: (await queue.getSchedule('once'))?.nextRunAt as number,
      };
      await sleep(3_500);
      const restartedAt = Date.now();
      await startFour();
      await churn(5_000, 200);
      await Promise.all(live.map((w) => w.stop()));

      // Run what is left (jobs the killed processes held come back after their lease).
      expect(await queue.unschedule('skip')).toBe(true);
      expect(await queue.unschedule('once')).toBe(true);
      const drained: string[] = [];
      const drain = createWorker(queue, ({ id }) => void drained.push(id), {
        pollIntervalMs: 100,
        leaseMs: 1_000,
      });
      drain.start();
      await waitFor(
        async () => {
          const c = await queue.counts();
          return c.waiting + c.active + c.delayed === 0;
        },
        'every job to run',
        15_000,
      );
      await drain.stop();

      const ran = new Set([...all.flatMap((w) => w.started), ...drained]);
      const counts = await queue.counts();
      // Each enqueue counts `added` once: a run enqueued twice (after its first job completed and
      // was deleted) would count twice for one id.
      expect(counts.added).toBe(ran.size);
      expect(counts).toMatchObject({ dead: 0, completed: counts.added });
      for (const policy of ['skip', 'once'] as const) {
        const first = policy === 'skip' ? startAt : startAt + 50;
        const runs = [...ran]
          .filter((id) => id.startsWith(`${policy}:`))
          .map((id) => Number(id.slice(policy.length + 1)))
          .sort((a, b) => a - b);
        expect(runs.length, policy).toBeGreaterThanOrEqual(100);
        expect(runs[0]).toBe(first);
        for (const t of runs) expect((t - first) % EVERY_MS).toBe(0);
        // No gap but the one the missed policy documents: the runs due while every scheduler was down.
        const gaps = runs.flatMap((t, i) => (i > 0 && t - (runs[i - 1] as number) > EVERY_MS ? [i] : []));
        expect(gaps, policy).toHaveLength(1);
        const before = runs[(gaps[0] as number) - 1] as number;
        const after = runs[gaps[0] as number] as number;
        // 'skip' enqueued nothing for them; 'once' one job, with the first missed run's id.
        expect(before, policy).toBe(policy === 'skip' ? pending.skip - EVERY_MS : pending.once);
        expect(after, policy).toBeGreaterThan(restartedAt);
      }
    } finally {
      for (const w of all) w.child.kill('SIGKILL');
      await queue.purge();
    }
  }, 60_000);
});
