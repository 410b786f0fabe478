import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createWorker, JobCancelledError, JobTimeoutError, type Queue } from '../src/index.ts';
import { sleep, waitFor } from './helpers.ts';

describe.each(topologies())('remove, cancel, timeouts and progress on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('cancel');
  let n = 0;
  const fresh = <T>(): Queue<T> =>
    createQueue<T>({ redis, prefix, name: `c${++n}`, keepCompleted: { count: 100 } });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('removes waiting, prioritized, grouped, delayed and dead jobs, and refuses running ones', async () => {
    const queue = fresh<string>();
    await queue.add('w', { id: 'plain' });
    await queue.add('p', { id: 'prio', priority: 3 });
    await queue.add('g', { id: 'grouped', group: 'g1' });
    await queue.add('d', { id: 'delayed', delayMs: 60_000 });
    await queue.add('x', { id: 'doomed', attempts: 1 });
    await queue.add('r', { id: 'runner' });
    let release = () => {};
    const worker = createWorker(queue, async ({ payload }) => {
      if (payload === 'x') throw new Error('no');
      if (payload === 'r') await new Promise<void>((resolve) => (release = resolve));
    });
    await queue.remove('plain');
    await queue.remove('prio');
    await queue.remove('grouped');
    worker.start();
    await waitFor(async () => (await queue.get('runner'))?.state === 'active', 'the runner to start');
    await waitFor(async () => (await queue.get('doomed'))?.state === 'dead', 'the doomed job to die');
    expect(await queue.remove('runner')).toBe('active');
    expect(await queue.remove('delayed')).toBe('removed');
    expect(await queue.remove('doomed')).toBe('removed');
    expect(await queue.remove('doomed')).toBe('missing');
    release();
    await waitFor(async () => (await queue.get('runner'))?.state === 'completed', 'the runner to finish');
    await worker.stop();
    expect(await queue.counts()).toMatchObject({ waiting: 0, delayed: 0, dead: 0, grouped: 0, discarded: 5 });
    for (const id of ['plain', 'prio', 'grouped', 'delayed', 'doomed'])
      expect(await queue.get(id)).toBeUndefined();
  });

  it('cancels a running job: its signal aborts with JobCancelledError and it dies without a retry', async () => {
    const queue = fresh<string>();
    await queue.add('long', { id: 'long', attempts: 5 });
    const reasons: unknown[] = [];
    const dead: string[] = [];
    const worker = createWorker(queue, ({ signal }) => {
      return new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          reasons.push(signal.reason);
          resolve(); // a handler that ignores the abort and returns normally still does not complete
        });
      });
    });
    worker.on('dead', (id, reason) => dead.push(`${id} ${reason}`));
    worker.start();
    await waitFor(async () => (await queue.get('long'))?.state === 'active', 'the job to start');
    const asked = performance.now();
    expect(await queue.cancel('long')).toBe('cancelling');
    await waitFor(() => dead.length === 1, 'the job to be cancelled', 5_000);
    expect(performance.now() - asked).toBeLessThan(2_000); // the message, not the next renewal
    await worker.stop();
    expect(reasons[0]).toBeInstanceOf(JobCancelledError);
    expect(dead).toEqual(['long cancelled']);
    expect(await queue.get('long')).toMatchObject({
      state: 'dead',
      deadReason: 'cancelled',
      attemptsMade: 1,
    });
    expect(await queue.cancel('long')).toBe('finished');
    expect(await queue.cancel('nope')).toBe('missing');
  });

  it('cancels a job that has not run yet straight to the dead-letter set; retryDead brings it back', async () => {
    const queue = fresh<string>();
    await queue.add('later', { id: 'later', delayMs: 60_000 });
    await queue.add('grouped', { id: 'grouped', group: 'g' });
    expect(await queue.cancel('later')).toBe('cancelled');
    expect(await queue.cancel('grouped')).toBe('cancelled');
    expect(await queue.counts()).toMatchObject({ delayed: 0, waiting: 0, dead: 2 });
    expect(await queue.get('grouped')).toMatchObject({ state: 'dead', deadReason: 'cancelled' });
    expect(await queue.retryDead(['grouped'])).toBe(1);
    const ran: string[] = [];
    const worker = createWorker(queue, ({ payload }) => void ran.push(payload));
    worker.start();
    await waitFor(() => ran.length === 1, 'the retried job to run');
    await worker.stop();
    expect(ran).toEqual(['grouped']);
  });

  it('times an attempt out: the signal aborts with JobTimeoutError, the attempt fails and is retried', async () => {
    const queue = fresh<string>();
    await queue.add('slow', {
      id: 'slow',
      timeoutMs: 150,
      attempts: 2,
      backoff: { type: 'fixed', delayMs: 0 },
    });
    const reasons: unknown[] = [];
    const failed: unknown[] = [];
    const worker = createWorker(queue, async ({ signal }) => {
      await sleep(400); // ignores the signal: the attempt fails anyway
      reasons.push(signal.reason);
      return 'too late';
    });
    worker.on('failed', (_job, error) => failed.push(error));
    worker.start();
    await waitFor(() => failed.length === 2, 'both attempts to fail', 5_000);
    await worker.stop();
    expect(reasons.every((r) => r instanceof JobTimeoutError)).toBe(true);
    expect(failed.every((e) => e instanceof JobTimeoutError)).toBe(true);
    expect(await queue.get('slow')).toMatchObject({ state: 'dead', attemptsMade: 2, timeoutMs: 150 });
  });

  it('does not give a cancelled job back to waiting when its worker stops before the handler ends', async () => {
    const queue = fresh<string>();
    await queue.add('stubborn', { id: 'stubborn' });
    const worker = createWorker(queue, () => sleep(1_500)); // ignores its signal
    worker.start();
    await waitFor(async () => (await queue.get('stubborn'))?.state === 'active', 'the job to start');
    expect(await queue.cancel('stubborn')).toBe('cancelling');
    await worker.stop({ drainTimeoutMs: 200 }); // gives the unfinished job back
    expect(await queue.get('stubborn')).toMatchObject({ state: 'dead', deadReason: 'cancelled' });
    expect(await queue.counts()).toMatchObject({ waiting: 0, dead: 1, completed: 0 });
  });

  it('records a timed-out attempt at once; the slot frees only when the handler returns', async () => {
    const queue = fresh<string>();
    await queue.add('hung', { id: 'hung', timeoutMs: 100, attempts: 1 });
    await queue.add('next', { id: 'next' });
    const started: string[] = [];
    let release = () => {};
    const worker = createWorker(queue, async ({ payload }) => {
      started.push(payload);
      if (payload === 'hung') await new Promise<void>((resolve) => (release = resolve)); // ignores its signal
    });
    worker.start();
    await waitFor(
      async () => (await queue.get('hung'))?.state === 'dead',
      'the attempt to be recorded',
      3_000,
    );
    await sleep(300);
    expect(started).toEqual(['hung']); // concurrency 1: still taken by the hung handler
    release();
    await waitFor(() => started.length === 2, 'the next job', 3_000);
    await worker.stop();
    expect(await queue.get('hung')).toMatchObject({
      deadReason: 'failed',
      lastError: expect.stringContaining('JobTimeoutError'),
    });
  });

  it('records progress in the job while it runs, through a destructured progress()', async () => {
    const queue = fresh<string>();
    await queue.add('p', { id: 'p' });
    let step = () => {};
    const worker = createWorker(queue, async ({ progress }) => {
      await progress({ done: 1, of: 2 });
      await new Promise<void>((resolve) => (step = resolve));
      await progress(100);
    });
    worker.start();
    await waitFor(async () => (await queue.get('p'))?.progress !== undefined, 'the first progress');
    expect((await queue.get('p'))?.progress).toEqual({ done: 1, of: 2 });
    step();
    await waitFor(async () => (await queue.get('p'))?.state === 'completed', 'completion');
    await worker.stop();
    expect((await queue.get('p'))?.progress).toBe(100);
  });

  it('refuses a bad timeoutMs and a bad id before writing anything', async () => {
    const queue = fresh<string>();
    await expect(queue.add('x', { timeoutMs: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(queue.cancel('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(queue.remove(null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(queue.list('nope' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await queue.counts()).toMatchObject({ added: 0 });
  });
});
