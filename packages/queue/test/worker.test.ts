import { ClosedError, connect, OwnershipLostError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createWorker, type Queue, type QueueCounts } from '../src/index.ts';
import { sleep, waitFor } from './helpers.ts';

// Timing bounds below are generous on purpose: the machine running the tests may be loaded. The
// lower bounds are the guarantees (never early); the upper bounds only catch "forgotten" jobs.
const SLACK_MS = 1_500;

describe.each(topologies())('worker on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('worker');
  let n = 0;
  const fresh = <T>(extra: Partial<Parameters<typeof createQueue>[0]> = {}): Queue<T> =>
    createQueue<T>({ redis, prefix, name: `w${++n}`, ...extra });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('retries with exponential backoff, never early, then dead-letters with the last error', async () => {
    const queue = fresh<string>();
    await queue.add('flaky', { id: 'flaky', attempts: 3, backoff: { type: 'exponential', delayMs: 200 } });
    const startedAt: number[] = [];
    const failed: Array<number | undefined> = [];
    const dead: string[] = [];
    const worker = createWorker(
      queue,
      ({ attempt }) => {
        startedAt.push(performance.now());
        throw new Error(`boom ${attempt}`);
      },
      { pollIntervalMs: 200 },
    );
    worker.on('failed', (_job, _err, retryInMs) => failed.push(retryInMs));
    worker.on('dead', (id, reason, error) => dead.push(`${id} ${reason} ${error}`));
    worker.start();
    await waitFor(() => dead.length === 1, 'the job to die', 10_000);
    await worker.stop();
    expect(failed).toEqual([200, 400, undefined]);
    expect(dead).toEqual(['flaky failed Error: boom 3']);
    const [first = 0, second = 0, third = 0] = startedAt;
    // Each retry waits at least its backoff (2 ms of tolerance for the server clock's ms rounding).
    expect(second - first).toBeGreaterThanOrEqual(198);
    expect(third - second).toBeGreaterThanOrEqual(398);
    expect(second - first).toBeLessThan(200 + SLACK_MS);
    expect(third - second).toBeLessThan(400 + SLACK_MS);
    expect(await queue.get('flaky')).toMatchObject({
      state: 'dead',
      deadReason: 'failed',
      lastError: 'Error: boom 3',
      attemptsMade: 3,
    });
    expect(await queue.counts()).toMatchObject({ dead: 1, failed: 3, completed: 0, delayed: 0 });
  });

  it('uses a custom backoff and succeeds on a later attempt', async () => {
    const queue = fresh<string>({ defaultJobOptions: { attempts: 4 } });
    await queue.add('x', { id: 'x' });
    const attempts: number[] = [];
    const worker = createWorker(
      queue,
      ({ attempt }) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error('not yet');
        return 'ok';
      },
      { backoff: (failures) => failures * 10, pollIntervalMs: 100 },
    );
    const retries: Array<number | undefined> = [];
    worker.on('failed', (_job, _err, retryInMs) => retries.push(retryInMs));
    worker.start();
    await waitFor(async () => (await queue.counts()).completed === 1, 'completion');
    await worker.stop();
    expect(attempts).toEqual([1, 2, 3]);
    expect(retries).toEqual([10, 20]);
  });

  it('runs delayed jobs no earlier than their time and promptly after, from this process or another', async () => {
    const queue = fresh<string>();
    const other = await connect({ url });
    // A handle on another connection: its adds give this process's worker no hint.
    const elsewhere = createQueue<string>({ redis: other, prefix, name: queue.name });
    try {
      const ranAt = new Map<string, number>();
      const worker = createWorker(queue, ({ id }) => void ranAt.set(id, performance.now()), {
        pollIntervalMs: 300,
      });
      worker.start();
      await sleep(50);
      const addedAt = performance.now();
      await queue.add('local', { id: 'local', delayMs: 400 });
      await elsewhere.add('remote', { id: 'remote', delayMs: 600 });
      await queue.add('now', { id: 'now' });
      await waitFor(() => ranAt.size === 3, 'three jobs', 10_000);
      await worker.stop();
      const after = (id: string) => (ranAt.get(id) ?? 0) - addedAt;
      expect(after('now')).toBeLessThan(after('local'));
      expect(after('local')).toBeGreaterThanOrEqual(398);
      expect(after('remote')).toBeGreaterThanOrEqual(598);
      // A local add wakes the worker at the due time; one from elsewhere waits at most pollIntervalMs more.
      expect(after('local')).toBeLessThan(400 + SLACK_MS);
      expect(after('remote')).toBeLessThan(600 + 300 + SLACK_MS);
    } finally {
      await other.close();
    }
  });

  it('stops gracefully: running jobs finish once, the rest stay waiting, none is lost or run twice', async () => {
    const queue = fresh<number>();
    await queue.addBulk(Array.from({ length: 30 }, (_, i) => ({ payload: i, options: { id: `g${i}` } })));
    const runs = new Map<string, number>();
    const handler = async ({ id }: { id: string }) => {
      runs.set(id, (runs.get(id) ?? 0) + 1);
      await sleep(300);
    };
    const first = createWorker(queue, handler, { concurrency: 5 });
    first.start();
    await waitFor(() => runs.size === 5, 'five running jobs');
    await first.stop({ drainTimeoutMs: 10_000 });
    expect(runs.size).toBe(5);
    expect(await queue.counts()).toMatchObject({ completed: 5, waiting: 25, active: 0, stalled: 0 });

    const second = createWorker(queue, handler, { concurrency: 10 });
    second.start();
    await waitFor(async () => (await queue.counts()).completed === 30, 'all 30 jobs', 15_000);
    await second.stop();
    expect(runs.size).toBe(30);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
  });

  it('past the stop timeout aborts the handler and returns its job to waiting, without a stall', async () => {
    const queue = fresh<string>();
    await queue.add('slow', { id: 'slow' });
    let reason: unknown;
    const worker = createWorker(queue, ({ signal }) => {
      return new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          reason = signal.reason;
          resolve();
        });
      });
    });
    const completed: string[] = [];
    worker.on('completed', (job) => completed.push(job.id));
    worker.start();
    await waitFor(async () => (await queue.counts()).active === 1, 'the job to start');
    await worker.stop({ drainTimeoutMs: 200 });
    expect(reason).toBeInstanceOf(ClosedError);
    expect(completed).toEqual([]);
    expect(await queue.counts()).toMatchObject({ waiting: 1, active: 0, completed: 0, stalled: 0 });
    expect(await queue.get('slow')).toMatchObject({ state: 'waiting', stalls: 0 });
  });

  it('rescues an id a worker parked with BLMOVE and died before leasing, after the grace period', async () => {
    const queue = fresh<string>();
    await queue.add('orphan', { id: 'orphan' });
    // What a worker killed between BLMOVE and its lease script leaves behind.
    const waiting = `${prefix}{${queue.name}}:waiting`;
    const active = `${prefix}{${queue.name}}:active`;
    expect(await redis.send(['LMOVE', waiting, active, 'RIGHT', 'LEFT'], { key: waiting })).toBe('orphan');
    expect((await queue.counts()).active).toBe(1);
    const stalled: string[] = [];
    const worker = createWorker(queue, () => 'done', { leaseMs: 400, pollIntervalMs: 100 });
    worker.on('stalled', (id) => stalled.push(id));
    worker.start();
    await waitFor(async () => (await queue.counts()).completed === 1, 'the orphan to run', 10_000);
    await worker.stop();
    expect(stalled).toEqual(['orphan']);
    expect(await queue.counts()).toMatchObject({ active: 0, waiting: 0, stalled: 1 });
  });

  it('aborts the signal when the lease is lost and drops that run’s result', async () => {
    const queue = fresh<string>();
    await queue.add('contested', { id: 'contested' });
    let reason: unknown;
    const worker = createWorker(
      queue,
      ({ signal }) =>
        new Promise<string>((resolve) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason;
            resolve('too late');
          });
        }),
      { leaseMs: 1_500 },
    );
    const errors: Error[] = [];
    const completed: string[] = [];
    worker.on('error', (error) => errors.push(error));
    worker.on('completed', (job) => completed.push(job.id));
    worker.start();
    await waitFor(async () => (await queue.counts()).active === 1, 'the job to start');
    // What another worker taking the job over after an expiry looks like to this one.
    const owners = `${prefix}{${queue.name}}:owners`;
    await redis.send(['HSET', owners, 'contested', 'another-worker'], { key: owners });
    await waitFor(() => reason !== undefined, 'the abort', 5_000);
    expect(reason).toBeInstanceOf(OwnershipLostError);
    await sleep(100);
    await worker.stop({ drainTimeoutMs: 1_000 });
    expect(completed).toEqual([]);
    expect(errors.some((e) => e instanceof OwnershipLostError)).toBe(true);
    expect((await queue.counts()).completed).toBe(0);
    await queue.purge();
  });

  it('keeps the counts adding up at every step of a run with retries, delays and dead letters', async () => {
    const queue = fresh<{ kind: 'ok' | 'flaky' | 'bad' }>({
      defaultJobOptions: { attempts: 2, backoff: { type: 'fixed', delayMs: 50 } },
    });
    const jobs = Array.from({ length: 90 }, (_, i) => ({
      payload: { kind: (['ok', 'flaky', 'bad'] as const)[i % 3] ?? 'ok' },
      options: { delayMs: i % 5 === 0 ? 100 : 0 },
    }));
    await queue.addBulk(jobs);
    const worker = createWorker(
      queue,
      async ({ payload, attempt }) => {
        await sleep(2);
        if (payload.kind === 'bad' || (payload.kind === 'flaky' && attempt === 1)) throw new Error('nope');
      },
      { concurrency: 4, pollIntervalMs: 100 },
    );
    worker.start();
    const samples: QueueCounts[] = [];
    for (;;) {
      const c = await queue.counts();
      samples.push(c);
      if (c.completed + c.dead === 90) break;
      if (samples.length > 2_000) throw new Error(`no progress: ${JSON.stringify(c)}`);
      await sleep(10);
    }
    await worker.stop();
    const holds = (c: QueueCounts) => c.waiting + c.active + c.delayed + c.dead + c.completed + c.discarded;
    expect(samples.length).toBeGreaterThan(3);
    for (const c of samples) expect(holds(c), JSON.stringify(c)).toBe(90);
    expect(samples.at(-1)).toMatchObject({ completed: 60, dead: 30, failed: 30 + 30 * 2, added: 90 });
  });
});
