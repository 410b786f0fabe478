import { connect, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import { type OtelHarness, type Point, registerOtel } from '@redis-patterns/testing/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock, type LockHandle, LockLostError } from '../src/index.ts';

const countOf = (points: Point[], outcome?: string) =>
  points
    .filter((p) => outcome === undefined || p.attributes.outcome === outcome)
    .reduce((sum, p) => sum + (p.count ?? 0), 0);

describe('lock telemetry without an SDK', () => {
  it('records nothing and still locks when no provider is registered', async () => {
    const redis = await connect({ url: (topologies()[0] as Topology).url });
    const locks = createLock({ redis, prefix: uniquePrefix('lock-otel-none') });
    try {
      const held = await locks.acquire('job');
      expect(await locks.tryAcquire('job')).toBeNull();
      await held.release();
      const otel = registerOtel();
      try {
        expect(otel.spans()).toEqual([]);
        expect(await otel.points('redis_patterns.lock.hold.duration')).toEqual([]);
      } finally {
        await otel.shutdown();
      }
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
      const lost = (points: Point[]) => points.find((p) => p.attributes.reason === reason)?.value ?? 0;
      expect(lost(await otel.points('redis_patterns.lock.lost')) - lost(lostBefore)).toBe(1);
      const [withLock] = otel.spans('lock withLock');
      const [acquire] = otel.spans('lock acquire');
      expect(withLock?.status.code).toBe(2);
      expect(acquire?.parentSpanContext?.spanId).toBe(withLock?.spanContext().spanId);
      await locks.close();
    }));
});
