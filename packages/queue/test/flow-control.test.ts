import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createWorker, type Queue, type Worker } from '../src/index.ts';
import { sleep, waitFor } from './helpers.ts';

describe.each(topologies())('pause and limits on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('flow');
  let n = 0;
  const fresh = <T>(): Queue<T> => createQueue<T>({ redis, prefix, name: `f${++n}` });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  /** Workers whose handlers take `workMs` and track how many run at once, overall and per group. */
  function tracked(queue: Queue<{ g?: string }>, workers: number, concurrency: number, workMs = 20) {
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const started: Array<{ at: number; g: string }> = [];
    let done = 0;
    const bump = (key: string, by: number) => {
      const now = (running.get(key) ?? 0) + by;
      running.set(key, now);
      peak.set(key, Math.max(peak.get(key) ?? 0, now));
    };
    const list: Worker<{ g?: string }>[] = [];
    for (let i = 0; i < workers; i++) {
      const worker = createWorker(
        queue,
        async ({ payload }) => {
          const g = payload.g ?? '-';
          started.push({ at: performance.now(), g });
          bump('*', 1);
          bump(g, 1);
          await sleep(workMs);
          bump('*', -1);
          bump(g, -1);
          done++;
        },
        { concurrency, pollIntervalMs: 100 },
      );
      list.push(worker);
    }
    return {
      start: () => {
        for (const w of list) w.start();
      },
      stop: () => Promise.all(list.map((w) => w.stop())),
      peak,
      started,
      done: () => done,
    };
  }

  it('holds every worker while paused, lets running jobs finish, and runs again on resume', async () => {
    const queue = fresh<{ g?: string }>();
    const t = tracked(queue, 2, 2, 150);
    await queue.addBulk(Array.from({ length: 4 }, () => ({ payload: {} })));
    t.start();
    await waitFor(() => t.started.length === 4, 'the first jobs to start');
    await queue.pause();
    expect(await queue.isPaused()).toBe(true);
    await queue.addBulk(Array.from({ length: 6 }, () => ({ payload: {} })));
    await waitFor(() => t.done() === 4, 'the running jobs to finish');
    await sleep(500);
    expect(t.started).toHaveLength(4);
    expect(await queue.counts()).toMatchObject({ waiting: 6, paused: true });
    await queue.resume();
    await waitFor(() => t.done() === 10, 'the rest after resume', 5_000);
    await t.stop();
  });

  it('keeps the queue-wide concurrency across workers', async () => {
    const queue = fresh<{ g?: string }>();
    await queue.setLimits({ concurrency: 3 });
    expect(await queue.getLimits()).toEqual({ concurrency: 3 });
    const t = tracked(queue, 3, 5);
    await queue.addBulk(Array.from({ length: 60 }, () => ({ payload: {} })));
    t.start();
    await waitFor(() => t.done() === 60, 'all jobs', 15_000);
    await t.stop();
    expect(t.peak.get('*')).toBe(3);
  });

  it('starts at most `max` jobs per window, queue-wide', async () => {
    const queue = fresh<{ g?: string }>();
    await queue.setLimits({ rate: { max: 5, intervalMs: 300 } });
    const t = tracked(queue, 2, 10, 1);
    await queue.addBulk(Array.from({ length: 15 }, () => ({ payload: {} })));
    const from = performance.now();
    t.start();
    await waitFor(() => t.done() === 15, 'all jobs', 10_000);
    await t.stop();
    // Three windows of 5: the last five cannot start before two windows have passed.
    expect(performance.now() - from).toBeGreaterThanOrEqual(2 * 300 - 20);
    const starts = t.started.map((s) => s.at - from).sort((a, b) => a - b);
    for (let i = 5; i < starts.length; i++) {
      // Any 6 consecutive starts span more than one window's worth of time, minus clock slack.
      expect((starts[i] ?? 0) - (starts[i - 5] ?? 0)).toBeGreaterThan(300 - 60);
    }
  });

  it('takes groups in turn and holds each at its own concurrency', async () => {
    const queue = fresh<{ g?: string }>();
    await queue.setLimits({ group: { concurrency: 2 } });
    // A busy group added first must not block the others.
    await queue.addBulk(
      Array.from({ length: 40 }, () => ({ payload: { g: 'busy' }, options: { group: 'busy' } })),
    );
    for (const g of ['a', 'b', 'c']) {
      await queue.addBulk(Array.from({ length: 4 }, () => ({ payload: { g }, options: { group: g } })));
    }
    expect(await queue.counts()).toMatchObject({ waiting: 52, grouped: 52 });
    const t = tracked(queue, 2, 8, 30);
    t.start();
    await waitFor(() => t.done() === 52, 'all jobs', 15_000);
    await t.stop();
    for (const g of ['busy', 'a', 'b', 'c']) expect(t.peak.get(g)).toBeLessThanOrEqual(2);
    // The small groups all finished long before the busy one.
    const lastSmall = Math.max(...t.started.filter((s) => s.g !== 'busy').map((s) => s.at));
    const busyStarts = t.started.filter((s) => s.g === 'busy').map((s) => s.at);
    expect(busyStarts.filter((at) => at > lastSmall).length).toBeGreaterThan(25);
    expect(await queue.counts()).toMatchObject({ waiting: 0, grouped: 0, active: 0 });
  });

  it('starts at most `max` jobs of a group per window, without holding other groups', async () => {
    const queue = fresh<{ g?: string }>();
    await queue.setLimits({ group: { rate: { max: 2, intervalMs: 400 } } });
    await queue.addBulk(
      Array.from({ length: 6 }, () => ({ payload: { g: 'slow' }, options: { group: 'slow' } })),
    );
    await queue.addBulk(Array.from({ length: 6 }, () => ({ payload: { g: 'x' }, options: { group: 'x' } })));
    await queue.addBulk(Array.from({ length: 4 }, () => ({ payload: {} })));
    const t = tracked(queue, 1, 4, 1);
    const from = performance.now();
    t.start();
    await waitFor(() => t.done() === 16, 'all jobs', 10_000);
    await t.stop();
    for (const g of ['slow', 'x']) {
      const starts = t.started.filter((s) => s.g === g).map((s) => s.at - from);
      expect(starts).toHaveLength(6);
      // 2 per 400 ms window: the 3rd waits for the 2nd window, the 5th for the 3rd.
      expect(starts[2]).toBeGreaterThanOrEqual(400 - 30);
      expect(starts[4]).toBeGreaterThanOrEqual(800 - 30);
    }
    // Plain jobs are not held by the groups' windows.
    expect(Math.max(...t.started.filter((s) => s.g === '-').map((s) => s.at - from))).toBeLessThan(300);
  });

  it('a worker of concurrency 1 fetches again after the job it had taken went back to a paused queue', async () => {
    const queue = fresh<{ g?: string }>();
    const ran: number[] = [];
    const worker = createWorker(queue, () => void ran.push(1), { pollIntervalMs: 200 });
    worker.start();
    await sleep(300); // blocked in BLMOVE: the add below is taken, then given back (paused)
    await queue.pause();
    await queue.add({});
    await sleep(400);
    expect(ran).toHaveLength(0);
    await queue.resume();
    await waitFor(() => ran.length === 1, 'the job after resume', 3_000);
    await worker.stop();
  });

  it('keeps fetching with two workers of concurrency 1 under a queue-wide limit of 1', async () => {
    const queue = fresh<{ g?: string }>();
    await queue.setLimits({ concurrency: 1 });
    const t = tracked(queue, 2, 1, 5);
    t.start();
    await sleep(200);
    await queue.addBulk(Array.from({ length: 8 }, () => ({ payload: {} })));
    await waitFor(() => t.done() === 8, 'all jobs', 5_000);
    await t.stop();
    expect(t.peak.get('*')).toBe(1);
  });

  it('wakes every idle worker for a batch of grouped jobs, not one after another', async () => {
    const queue = fresh<{ g?: string }>();
    const t = tracked(queue, 4, 1, 400);
    t.start();
    await sleep(300); // all four blocked in BLMOVE
    const from = performance.now();
    await queue.addBulk(['a', 'b', 'c', 'd'].map((g) => ({ payload: { g }, options: { group: g } })));
    await waitFor(() => t.started.length === 4, 'four starts', 5_000);
    await t.stop();
    // One worker alone would start them 400 ms apart.
    expect(Math.max(...t.started.map((s) => s.at - from))).toBeLessThan(350);
  });

  it('refuses bad limits before writing anything', async () => {
    const queue = fresh();
    await queue.setLimits({ concurrency: 4 });
    for (const bad of [
      { concurrency: 0 },
      { rate: { max: 5 } },
      { rate: { max: 0, intervalMs: 100 } },
      { group: { concurrency: 1.5 } },
      { group: { rate: { max: 1, intervalMs: -1 } } },
      null,
    ]) {
      await expect(queue.setLimits(bad as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(await queue.getLimits()).toEqual({ concurrency: 4 });
    await queue.setLimits({});
    expect(await queue.getLimits()).toEqual({});
  });
});
