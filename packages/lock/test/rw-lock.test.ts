import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReadWriteLock,
  type DistributedReadWriteLock,
  InvalidArgumentError,
  LockLostError,
  type ReadWriteHandle,
  TimeoutError,
} from '../src/index.ts';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

describe.each(topologies())('read/write lock on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rw');
  const opened: DistributedReadWriteLock[] = [];
  const make = (options: Partial<Parameters<typeof createReadWriteLock>[0]> = {}) => {
    const rw = createReadWriteLock({ redis, prefix, retry: { acquireTimeoutMs: 10_000 }, ...options });
    opened.push(rw);
    return rw;
  };
  const settled = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise.then(() => 'settled'), sleep(ms, 'pending')]);

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    for (const rw of opened) await rw.close();
    expect(unhandled).toEqual([]);
    await redis?.close();
  });

  it('lets readers share the lock and keeps a writer out while any reader holds it', async () => {
    const rw = make({ ttlMs: 5_000 });
    const readers = await Promise.all(Array.from({ length: 5 }, () => rw.acquireRead('shared')));
    expect(await rw.state('shared')).toEqual({ readers: 5, writer: false, writersWaiting: 0 });
    expect(await rw.tryAcquireWrite('shared')).toBeNull();
    await Promise.all(readers.map((r) => r.release()));
    const writer = (await rw.tryAcquireWrite('shared')) as ReadWriteHandle;
    expect(writer.mode).toBe('write');
    expect(await rw.tryAcquireRead('shared')).toBeNull();
    expect(await rw.tryAcquireWrite('shared')).toBeNull();
    expect(writer.fencingToken).toBeGreaterThan(Math.max(...readers.map((r) => r.fencingToken)));
    await writer.release();
    expect(await rw.state('shared')).toEqual({ readers: 0, writer: false, writersWaiting: 0 });
  });

  it('wakes the readers a waiting writer held back as soon as it gives up', async () => {
    const slow = { ttlMs: 5_000, retry: { acquireTimeoutMs: 10_000, delayMs: 5_000, jitterMs: 0 } };
    const rw = make(slow);
    const readers = make(slow);
    const reader = await rw.acquireRead('withdrawn');
    const controller = new AbortController();
    const writing = rw.acquireWrite('withdrawn', { signal: controller.signal });
    await sleep(100);
    expect((await rw.state('withdrawn')).writersWaiting).toBe(1);
    const reading = readers.acquireRead('withdrawn');
    await sleep(100);
    const abortedAt = performance.now();
    controller.abort();
    await writing.catch(() => {});
    const next = await reading;
    expect(performance.now() - abortedAt).toBeLessThan(1_000); // woken, not its 5 s poll
    await next.release();
    await reader.release();
  });

  it('holds new readers back while a writer waits, and wakes the writer when the last reader leaves', async () => {
    const rw = make({ ttlMs: 5_000, retry: { acquireTimeoutMs: 10_000, delayMs: 5_000, jitterMs: 0 } });
    const reader = await rw.acquireRead('intent');
    const writing = rw.acquireWrite('intent');
    await sleep(100);
    expect((await rw.state('intent')).writersWaiting).toBe(1);
    expect(await rw.tryAcquireRead('intent')).toBeNull(); // the waiting writer goes first
    const reading = rw.acquireRead('intent');
    const releasedAt = performance.now();
    await reader.release();
    const writer = await writing;
    expect(performance.now() - releasedAt).toBeLessThan(1_000); // woken, not its 5 s poll
    expect(await settled(reading, 200)).toBe('pending');
    await writer.release();
    const next = await reading;
    expect(next.fencingToken).toBeGreaterThan(writer.fencingToken);
    await next.release();
  });

  it('gives a writer the lock within 1 s while overlapping readers keep arriving', async () => {
    const rw = make({ ttlMs: 5_000, retry: { acquireTimeoutMs: 10_000, delayMs: 50, jitterMs: 10 } });
    let stop = false;
    const stream = (async () => {
      const inFlight: Promise<void>[] = [];
      while (!stop) {
        inFlight.push(rw.withReadLock('stream', () => sleep(60)));
        await sleep(20);
      }
      await Promise.all(inFlight);
    })();
    await sleep(300);
    const started = performance.now();
    const writer = await rw.acquireWrite('stream');
    const waitedMs = performance.now() - started;
    stop = true;
    await writer.release();
    await stream;
    expect(waitedMs).toBeLessThan(1_000);
  });

  it('lets readers in again once a writer that died while waiting stops renewing its intent', async () => {
    const rw = make({ retry: { acquireTimeoutMs: 10_000, delayMs: 100, jitterMs: 0 } });
    const intents = `${prefix}{dead-writer}:intents`;
    const [seconds, micros] = await redis.send<[string, string]>(['TIME'], { key: intents });
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    // What a writer's attempt leaves when its process is then killed: an intent that lapses.
    await redis.send(['ZADD', intents, String(now + 600), 'killed-writer'], { key: intents });
    const started = performance.now();
    const reader = await rw.acquireRead('dead-writer');
    const waitedMs = performance.now() - started;
    expect(waitedMs).toBeGreaterThan(400);
    expect(waitedMs).toBeLessThan(1_500);
    await reader.release();
  });

  it('withdraws the intent of a writer that timed out, so readers enter at once', async () => {
    const rw = make({ ttlMs: 5_000 });
    const reader = await rw.acquireRead('timeout');
    await expect(rw.acquireWrite('timeout', { acquireTimeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
    await sleep(50);
    expect((await rw.state('timeout')).writersWaiting).toBe(0);
    const second = await rw.tryAcquireRead('timeout');
    expect(second).not.toBeNull();
    await Promise.all([reader.release(), second?.release()]);
  });

  it('frees an expired writer for readers; the old writer learns it lost the lock', async () => {
    const rw = make({ ttlMs: 300, autoExtend: false });
    const writer = await rw.acquireWrite('expiry');
    const lost = new Promise((resolve) =>
      writer.signal.addEventListener('abort', () => resolve(writer.signal.reason)),
    );
    const reader = await rw.acquireRead('expiry', { acquireTimeoutMs: 5_000 });
    expect(reader.fencingToken).toBeGreaterThan(writer.fencingToken);
    expect(await lost).toBeInstanceOf(LockLostError);
    const error = await writer.release().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).reason).toBe('expired');
    await reader.release();
  });

  it('rejects bad input with InvalidArgumentError before writing anything', async () => {
    const rw = make();
    await expect(rw.acquireRead('bad', { ttlMs: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(rw.acquireWrite('bad', { acquireTimeoutMs: -1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(rw.tryAcquireWrite('bad', null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(rw.withWriteLock('bad', 1 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => createReadWriteLock({ redis, ttlMs: -5 })).toThrow(InvalidArgumentError);
    expect(() => createReadWriteLock(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => createReadWriteLock({ redis, fair: false } as never)).toThrow(InvalidArgumentError);
    expect(() => createReadWriteLock({ redis, durability: { replicas: 1 } } as never)).toThrow(
      InvalidArgumentError,
    );
    expect(await rw.state('bad')).toEqual({ readers: 0, writer: false, writersWaiting: 0 });
  });
});
