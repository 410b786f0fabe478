import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueue,
  createQueueEvents,
  createWorker,
  InvalidArgumentError,
  JobFailedError,
  type Queue,
  TimeoutError,
} from '../src/index.ts';
import { leftOver, liveResources, xadd, xreadClients } from './events-helpers.ts';
import { sleep, waitFor } from './helpers.ts';

/** Other test files may have subscribers on the same server; only our own count matters here. */
const otherReaders = 2;

// waitUntilFinished against outcomes these tests append to the events stream themselves.
describe.each(topologies())('waitUntilFinished on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('wait');
  let n = 0;
  const fresh = (): { queue: Queue<unknown>; key: (part: string) => string } => {
    const name = `w${++n}`;
    return { queue: createQueue({ redis, prefix, name }), key: (part) => `${prefix}{${name}}:${part}` };
  };
  const add = (stream: string, fields: Record<string, string>) => xadd(redis, stream, fields);

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('resolves with the result of a job that completes while it waits', async () => {
    const { queue, key } = fresh();
    const { id } = await queue.add({ n: 1 });
    const waiting = queue.waitUntilFinished(id, { timeoutMs: 10_000 });
    await sleep(100);
    await add(key('events'), { e: 'completed', j: 'someone-else', r: '"no"' });
    await add(key('events'), { e: 'completed', j: id, r: '{"sum":3}' });
    await expect(waiting).resolves.toEqual({ sum: 3 });
  });

  it('resolves with the result on a queue whose event history was off when the worker took the job', async () => {
    const { queue } = fresh();
    let release = () => {};
    const worker = createWorker(queue, async ({ payload }) => {
      await new Promise<void>((resolve) => (release = resolve));
      return { doubled: (payload as { n: number }).n * 2 };
    });
    worker.start();
    const { id } = await queue.add({ n: 21 });
    await waitFor(async () => (await queue.get(id))?.state === 'active', 'the job to start');
    const waiting = queue.waitUntilFinished(id, { timeoutMs: 10_000 }); // switches the history on
    await sleep(100);
    release();
    await expect(waiting).resolves.toEqual({ doubled: 42 });
    await worker.stop();
  });

  it('rejects with JobFailedError (reason and last error) for a job that dies while it waits', async () => {
    const { queue, key } = fresh();
    const { id } = await queue.add({ n: 1 });
    const waiting = queue.waitUntilFinished(id, { timeoutMs: 10_000 }).catch((err: unknown) => err);
    await sleep(100);
    await add(key('events'), { e: 'dead', j: id, x: 'Error: nope', dr: 'stalled' });
    const error = await waiting;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({
      code: 'ERR_JOB_FAILED',
      jobId: id,
      reason: 'stalled',
      lastError: 'Error: nope',
    });
  });

  it('rejects with JobFailedError (cancelled) for a job cancelled while it waits', async () => {
    const { queue, key } = fresh();
    const { id } = await queue.add({ n: 1 });
    const waiting = queue.waitUntilFinished(id, { timeoutMs: 10_000 }).catch((err: unknown) => err);
    await sleep(100);
    await add(key('events'), { e: 'cancelled', j: id, dr: 'cancelled' });
    expect(await waiting).toMatchObject({ name: 'JobFailedError', jobId: id, reason: 'cancelled' });
  });

  it('finds the result of a job that completed and was deleted before the call, in the history', async () => {
    const { queue, key } = fresh();
    await createQueueEvents(queue).then((e) => e.close()); // history on
    await add(key('events'), { e: 'added', j: 'gone' });
    await add(key('events'), { e: 'completed', j: 'gone', r: '[1,2]' });
    for (let i = 0; i < 1_500; i++) await add(key('events'), { e: 'added', j: `other-${i}` });
    await expect(queue.waitUntilFinished('gone', { timeoutMs: 5_000 })).resolves.toEqual([1, 2]);
  });

  it('rejects with InvalidArgumentError for a job that does not exist and has no outcome in the history', async () => {
    const { queue, key } = fresh();
    await add(key('events'), { e: 'added', j: 'other' });
    const started = performance.now();
    await expect(queue.waitUntilFinished('never-added', { timeoutMs: 5_000 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(performance.now() - started).toBeLessThan(2_000);
    // The history was switched on for the wait.
    expect(await redis.send(['HGET', key('config'), 'ev'], { key: key('config') })).toBe('10000');
  });

  it('rejects with TimeoutError at timeoutMs for a job that does not finish, and stops reading', async () => {
    const baseline = liveResources();
    const own = await connect({ url, commandTimeoutMs: 2_000 });
    const queue = createQueue({ redis: own, prefix, name: `e${++n}` });
    const { id } = await queue.add('slow');
    const started = performance.now();
    const error = await queue.waitUntilFinished(id, { timeoutMs: 400 }).catch((err: unknown) => err);
    const took = performance.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1_000);
    await own.close();
    expect(await leftOver(baseline)).toEqual([]);
  });

  it('shares one subscriber between many waits of a queue', async () => {
    const { queue, key } = fresh();
    const added = await queue.addBulk(Array.from({ length: 50 }, (_, i) => ({ payload: i })));
    const waits = added.map(({ id }) => queue.waitUntilFinished(id, { timeoutMs: 10_000 }));
    await sleep(200);
    expect(await xreadClients(redis, key('events'))).toBeLessThanOrEqual(1 + otherReaders);
    for (const [i, { id }] of added.entries())
      await add(key('events'), { e: 'completed', j: id, r: String(i) });
    await expect(Promise.all(waits)).resolves.toEqual(added.map((_, i) => i));
  });
});
