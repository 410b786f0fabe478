import { connect, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import {
  exportedOnRegistration,
  type OtelHarness,
  type Point,
  registerOtel,
} from '@redis-patterns/testing/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLock,
  createLockInspector,
  createReadWriteLock,
  createSemaphore,
  type LockHandle,
  LockLostError,
} from '../src/index.ts';

const countOf = (points: Point[], outcome?: string, kind?: string) =>
  points
    .filter((p) => outcome === undefined || p.attributes.outcome === outcome)
    .filter((p) => kind === undefined || p.attributes.kind === kind)
    .reduce((sum, p) => sum + (p.count ?? 0), 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lock telemetry without an SDK', () => {
  it('records nothing and still locks when no provider is registered', async () => {
    const redis = await connect({ url: (topologies()[0] as Topology).url });
    const locks = createLock({ redis, prefix: uniquePrefix('lock-otel-none') });
    try {
      const held = await locks.acquire('job');
      expect(await locks.tryAcquire('job')).toBeNull();
      await held.release();
      expect(await exportedOnRegistration(['redis_patterns.lock.hold.duration'])).toEqual({
        spans: [],
        points: [],
      });
    } finally {
      await locks.close();
      await redis.close();
    }
  });
});

describe.each(topologies())('lock telemetry on $name', ({ url }) => {
  let redis: RedisConnection;
  let otel: OtelHarness;
  const prefix = uniquePrefix('lock-otel');
  beforeAll(async () => {
    otel = registerOtel();
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis.close();
    await otel.shutdown();
  });

  it('records no hold, loss or release span for a tryAcquireAll that was refused part way', async () => {
    const locks = createLock({ redis, prefix });
    const taken = await locks.acquire('delta');
    try {
      const holds = countOf(await otel.points('redis_patterns.lock.hold.duration'));
      otel.resetSpans();
      // On Cluster the names fall in several groups: the first ones are granted, then given back.
      for (let i = 0; i < 3; i++)
        expect(await otel.traced(() => locks.tryAcquireAll(['alpha', 'beta', 'gamma', 'delta']))).toBeNull();
      expect(countOf(await otel.points('redis_patterns.lock.hold.duration')) - holds).toBe(0);
      expect(otel.spans('lock release')).toEqual([]);
      expect(await locks.isLocked('alpha')).toBe(false);
    } finally {
      await taken.release();
      await locks.close();
    }
  });

  it('traces acquire and release with the lock name and records wait and hold durations', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const locks = createLock({ redis, prefix, ttlMs: 5_000 });
      const waitsBefore = countOf(await otel.points('redis_patterns.lock.wait.duration'), 'acquired');
      const holdsBefore = countOf(await otel.points('redis_patterns.lock.hold.duration'));
      const held = await locks.acquire('invoice:42');
      await held.release();
      const [acquire] = otel.spans('lock acquire');
      expect(acquire?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'acquire',
        'redis_patterns.lock.name': 'invoice:42',
        'redis_patterns.lock.acquired': true,
      });
      expect(otel.spans('lock release')[0]?.attributes['redis_patterns.lock.name']).toBe('invoice:42');
      const waits = await otel.points('redis_patterns.lock.wait.duration');
      expect(countOf(waits, 'acquired') - waitsBefore).toBe(1);
      expect(countOf(await otel.points('redis_patterns.lock.hold.duration')) - holdsBefore).toBe(1);
      await locks.close();
    }));

  it('records a refused tryAcquire and a timed-out acquire as not acquired, the latter as an error span', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const locks = createLock({ redis, prefix, ttlMs: 5_000 });
      const before = countOf(await otel.points('redis_patterns.lock.wait.duration'), 'not_acquired');
      const held = (await locks.acquire('busy')) as LockHandle;
      expect(await locks.tryAcquire('busy')).toBeNull();
      await expect(locks.acquire('busy', { acquireTimeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
      await held.release();
      const after = countOf(await otel.points('redis_patterns.lock.wait.duration'), 'not_acquired');
      expect(after - before).toBe(2);
      expect(otel.spans('lock tryAcquire')[0]?.attributes['redis_patterns.lock.acquired']).toBe(false);
      const failed = otel.spans('lock acquire').find((s) => s.status.code === 2);
      expect(failed?.attributes['error.type']).toBe('ERR_TIMEOUT');
      await locks.close();
    }));

  it('counts a lock lost to a force release, by reason, and nests acquire under withLock', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const locks = createLock({ redis, prefix, ttlMs: 300 });
      const lostBefore = await otel.points('redis_patterns.lock.lost');
      const result = await locks
        .withLock('forced', async (signal) => {
          await locks.forceRelease('forced');
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        })
        .catch((err: unknown) => err);
      expect(result).toBeInstanceOf(LockLostError);
      const reason = (result as LockLostError).reason;
      const lost = (points: Point[]) =>
        points.find((p) => p.attributes.reason === reason && p.attributes.kind === 'lock')?.value ?? 0;
      expect(lost(await otel.points('redis_patterns.lock.lost')) - lost(lostBefore)).toBe(1);
      const [withLock] = otel.spans('lock withLock');
      const [acquire] = otel.spans('lock acquire');
      expect(withLock?.status.code).toBe(2);
      expect(acquire?.parentSpanContext?.spanId).toBe(withLock?.spanContext().spanId);
      await locks.close();
    }));

  it('traces semaphore acquire, tryAcquire, holders and release, and times waits and holds by kind', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const semaphore = createSemaphore({ redis, prefix, permits: 1, ttlMs: 5_000 });
      const wait = () => otel.points('redis_patterns.lock.wait.duration');
      const acquiredBefore = countOf(await wait(), 'acquired', 'semaphore');
      const refusedBefore = countOf(await wait(), 'not_acquired', 'semaphore');
      const holdsBefore = countOf(
        await otel.points('redis_patterns.lock.hold.duration'),
        undefined,
        'semaphore',
      );
      const permit = await semaphore.acquire('exports');
      expect(await semaphore.tryAcquire('exports')).toBeNull();
      await expect(semaphore.acquire('exports', { acquireTimeoutMs: 100 })).rejects.toBeInstanceOf(
        TimeoutError,
      );
      expect(await semaphore.holders('exports')).toBe(1);
      await permit.release();
      expect(countOf(await wait(), 'acquired', 'semaphore') - acquiredBefore).toBe(1);
      expect(countOf(await wait(), 'not_acquired', 'semaphore') - refusedBefore).toBe(2);
      const holds = countOf(await otel.points('redis_patterns.lock.hold.duration'), undefined, 'semaphore');
      expect(holds - holdsBefore).toBe(1);
      const [acquire] = otel.spans('semaphore acquire');
      expect(acquire?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'acquire',
        'redis_patterns.lock.name': 'exports',
        'redis_patterns.lock.acquired': true,
      });
      expect(otel.spans('semaphore acquire')[1]?.attributes['error.type']).toBe('ERR_TIMEOUT');
      expect(otel.spans('semaphore tryAcquire')[0]?.attributes['redis_patterns.lock.acquired']).toBe(false);
      expect(otel.spans('semaphore holders')[0]?.attributes['redis_patterns.lock.name']).toBe('exports');
      expect(otel.spans('semaphore release')[0]?.attributes['redis_patterns.lock.name']).toBe('exports');
      expect(otel.spans('lock acquire')).toEqual([]);
      await semaphore.close();
    }));

  it('nests acquire and release under withPermit and counts an expired permit as lost', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const semaphore = createSemaphore({ redis, prefix, permits: 2, ttlMs: 150 });
      const lost = async () =>
        (await otel.points('redis_patterns.lock.lost')).find(
          (p) => p.attributes.kind === 'semaphore' && p.attributes.reason === 'expired',
        )?.value ?? 0;
      expect(await semaphore.withPermit('report', () => 'done')).toBe('done');
      const [withPermit] = otel.spans('semaphore withPermit');
      const parentOf = (name: string) => otel.spans(name)[0]?.parentSpanContext?.spanId;
      expect(parentOf('semaphore acquire')).toBe(withPermit?.spanContext().spanId);
      expect(parentOf('semaphore release')).toBe(withPermit?.spanContext().spanId);
      const lostBefore = await lost();
      const permit = await semaphore.acquire('report', { autoExtend: false });
      await sleep(300);
      await expect(permit.release()).rejects.toBeInstanceOf(LockLostError);
      expect((await lost()) - lostBefore).toBe(1);
      const failed = otel.spans('semaphore release').find((s) => s.status.code === 2);
      expect(failed?.attributes['error.type']).toBeDefined();
      await semaphore.close();
    }));

  it('traces read and write locks by mode and times their waits and holds as read and write', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const rw = createReadWriteLock({ redis, prefix, ttlMs: 5_000 });
      const holds = async (kind: string) =>
        countOf(await otel.points('redis_patterns.lock.hold.duration'), undefined, kind);
      const waits = async (outcome: string, kind: string) =>
        countOf(await otel.points('redis_patterns.lock.wait.duration'), outcome, kind);
      const [readsBefore, writesBefore] = [await holds('read'), await holds('write')];
      const refusedBefore = await waits('not_acquired', 'write');
      expect(await rw.withReadLock('prices', async () => (await rw.state('prices')).readers)).toBe(1);
      const writer = await rw.acquireWrite('prices');
      expect(await rw.tryAcquireWrite('prices')).toBeNull();
      expect(await rw.tryAcquireRead('prices')).toBeNull();
      await writer.release();
      expect((await holds('read')) - readsBefore).toBe(1);
      expect((await holds('write')) - writesBefore).toBe(1);
      expect((await waits('not_acquired', 'write')) - refusedBefore).toBe(1);
      const [withRead] = otel.spans('rwlock withReadLock');
      const [acquireRead] = otel.spans('rwlock acquireRead');
      expect(acquireRead?.parentSpanContext?.spanId).toBe(withRead?.spanContext().spanId);
      expect(otel.spans('rwlock state')[0]?.parentSpanContext?.spanId).toBe(withRead?.spanContext().spanId);
      expect(acquireRead?.attributes['redis_patterns.lock.acquired']).toBe(true);
      const modes = otel.spans('rwlock release').map((s) => s.attributes['redis_patterns.lock.mode']);
      expect(modes).toEqual(['read', 'write']);
      expect(otel.spans('rwlock acquireWrite')[0]?.attributes['redis_patterns.lock.name']).toBe('prices');
      expect(otel.spans('rwlock tryAcquireWrite')[0]?.attributes['redis_patterns.lock.acquired']).toBe(false);
      expect(otel.spans('rwlock tryAcquireRead')).toHaveLength(1);
      await rw.close();
    }));

  it('traces the release of several names and times their hold as a lock', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const locks = createLock({ redis, prefix, ttlMs: 5_000 });
      const holdsBefore = countOf(await otel.points('redis_patterns.lock.hold.duration'), undefined, 'lock');
      const held = await locks.acquireAll(['a', 'b', 'c']);
      await held.release();
      expect(
        countOf(await otel.points('redis_patterns.lock.hold.duration'), undefined, 'lock') - holdsBefore,
      ).toBe(1);
      expect(otel.spans('lock release')[0]?.attributes['redis_patterns.lock.name_count']).toBe(3);
      expect(otel.spans('lock acquireAll')[0]?.attributes['redis_patterns.lock.name_count']).toBe(3);
      await locks.close();
    }));

  it('traces the inspector’s calls with the lock name', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const locks = createLock({ redis, prefix, ttlMs: 5_000 });
      const inspector = createLockInspector({ redis, prefix });
      const held = await locks.acquire('inspected');
      expect((await inspector.get('inspected'))?.holderCount).toBe(1);
      expect(await inspector.forceRelease('inspected')).toBe(1);
      await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
      expect(otel.spans('lock inspect.get')[0]?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'inspect.get',
        'redis_patterns.lock.name': 'inspected',
      });
      expect(otel.spans('lock inspect.forceRelease')).toHaveLength(1);
      await inspector.close();
      await locks.close();
    }));
});
