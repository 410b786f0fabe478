import { connect, type RedisConnection } from '@redis-patterns/connection';
import {
  type RedisServer,
  startRedis,
  type Topology,
  topologies,
  uniquePrefix,
} from '@redis-patterns/testing';
import {
  exportedOnRegistration,
  type OtelHarness,
  pointValue,
  registerOtel,
} from '@redis-patterns/testing/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  all,
  createRateLimiter,
  createRateLimitInspector,
  fixedWindow,
  InvalidArgumentError,
  slidingWindowLog,
} from '../src/index.ts';

describe('rate-limit telemetry without an SDK', () => {
  it('records nothing and still decides when no provider is registered', async () => {
    const { url } = topologies()[0] as Topology;
    const redis = await connect({ url });
    try {
      const limiter = createRateLimiter({
        redis,
        prefix: uniquePrefix('rl-otel-none'),
        algorithm: fixedWindow({ limit: 1, windowMs: 60_000 }),
      });
      expect((await limiter.limit('a')).allowed).toBe(true);
      expect((await limiter.limit('a')).allowed).toBe(false);
      // Registered only now: the calls above left nothing behind to export.
      expect(await exportedOnRegistration(['redis_patterns.ratelimit.decisions'])).toEqual({
        spans: [],
        points: [],
      });
    } finally {
      await redis.close();
    }
  });
});

describe.each(topologies())('rate-limit telemetry on $name', ({ url }) => {
  let redis: RedisConnection;
  let otel: OtelHarness;
  const prefix = uniquePrefix('rl-otel');

  beforeAll(async () => {
    otel = registerOtel();
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis.close();
    await otel.shutdown();
  });

  it('traces limit() with its decision and counts decisions per limiter', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const before = await otel.points('redis_patterns.ratelimit.decisions');
      const limiter = createRateLimiter({
        redis,
        prefix: `${prefix}a:`,
        name: 'login',
        algorithm: fixedWindow({ limit: 2, windowMs: 60_000 }),
      });
      for (let i = 0; i < 3; i++) await limiter.limit('user-1');
      const spans = otel.spans('ratelimit limit');
      expect(spans).toHaveLength(3);
      expect(spans[0]?.attributes).toMatchObject({
        'db.system.name': 'redis',
        'db.operation.name': 'limit',
        'redis_patterns.ratelimit.limiter': 'login',
        'redis_patterns.ratelimit.decision': 'allowed',
      });
      expect(spans[2]?.attributes['redis_patterns.ratelimit.decision']).toBe('denied');
      const after = await otel.points('redis_patterns.ratelimit.decisions');
      const delta = (decision: string) =>
        pointValue(after, { decision, limiter: 'login' }) -
        pointValue(before, { decision, limiter: 'login' });
      expect(delta('allowed')).toBe(2);
      expect(delta('denied')).toBe(1);
    }));

  it('counts decisions but starts no span for a call outside any trace', async () => {
    otel.resetSpans();
    const limiter = createRateLimiter({
      redis,
      prefix: `${prefix}e:`,
      name: 'untraced',
      algorithm: fixedWindow({ limit: 1, windowMs: 60_000 }),
    });
    await limiter.limit('u');
    expect(otel.spans()).toEqual([]);
    const points = await otel.points('redis_patterns.ratelimit.decisions');
    expect(pointValue(points, { decision: 'allowed', limiter: 'untraced' })).toBe(1);
  });

  it('labels an unnamed limiter by its algorithm and all() by its parts', () =>
    otel.traced(async () => {
      const unnamed = createRateLimiter({
        redis,
        prefix: `${prefix}b:`,
        algorithm: slidingWindowLog({ limit: 5, windowMs: 60_000 }),
      });
      const named = createRateLimiter({
        redis,
        prefix: `${prefix}c:`,
        name: 'hour',
        algorithm: fixedWindow({ limit: 5, windowMs: 3_600_000 }),
      });
      await unnamed.limit('u');
      await all([unnamed, named]).limit('u');
      const points = await otel.points('redis_patterns.ratelimit.decisions');
      expect(pointValue(points, { decision: 'allowed', limiter: 'slidingWindowLog' })).toBe(1);
      expect(pointValue(points, { decision: 'allowed', limiter: 'slidingWindowLog+hour' })).toBe(1);
    }));

  it('traces peek, penalty, refund and reset, and marks a rejected call as an error', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const limiter = createRateLimiter({
        redis,
        prefix: `${prefix}d:`,
        algorithm: fixedWindow({ limit: 5, windowMs: 60_000 }),
      });
      await limiter.peek('u');
      await limiter.penalty('u', 2);
      await limiter.refund('u', 1);
      await limiter.reset('u');
      expect(otel.spans().map((s) => s.name)).toEqual([
        'ratelimit peek',
        'ratelimit penalty',
        'ratelimit refund',
        'ratelimit reset',
      ]);
      await expect(limiter.penalty('u', 0)).rejects.toBeInstanceOf(InvalidArgumentError);
      const [failed] = otel.spans('ratelimit penalty').slice(-1);
      expect(failed?.status.code).toBe(2); // SpanStatusCode.ERROR
      expect(failed?.attributes['error.type']).toBe('ERR_INVALID_ARGUMENT');
      expect(failed?.events.map((e) => e.name)).toContain('exception');
    }));

  it('traces the inspector’s calls without the identifier', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const own = uniquePrefix('rl-otel-inspect');
      const limiter = createRateLimiter({
        redis,
        prefix: own,
        algorithm: fixedWindow({ limit: 3, windowMs: 60_000 }),
      });
      await limiter.limit('user-7');
      const inspector = createRateLimitInspector({ redis, prefix: own });
      expect((await inspector.get('user-7')).fixedWindow).toBeDefined();
      expect(await inspector.reset('user-7')).toBeGreaterThan(0);
      expect(otel.spans('ratelimit inspect.get')[0]?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'inspect.get',
      });
      expect(otel.spans('ratelimit inspect.reset')).toHaveLength(1);
      for (const span of otel.spans()) expect(Object.values(span.attributes)).not.toContain('user-7');
      await inspector.close();
    }));
});

describe('rate-limit telemetry while Redis is paused', () => {
  let server: RedisServer;
  let redis: RedisConnection;
  let otel: OtelHarness;
  beforeAll(async () => {
    server = await startRedis({ forceBinary: true });
    redis = await connect({ url: server.url, commandTimeoutMs: 5_000 });
    otel = registerOtel();
  });
  afterAll(async () => {
    await server?.resume().catch(() => {});
    await redis?.close();
    await server?.stop();
    await otel?.shutdown();
  });

  it('counts the decisions the fail mode made, apart from those Redis made', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const limiter = (name: string, failMode: 'open' | 'closed') =>
        createRateLimiter({
          redis,
          prefix: uniquePrefix('rl-otel-paused'),
          name,
          algorithm: fixedWindow({ limit: 5, windowMs: 60_000 }),
          failMode,
          commandTimeoutMs: 150,
        });
      const open = limiter('open-api', 'open');
      const closed = limiter('closed-api', 'closed');
      expect((await open.limit('u')).error).toBeUndefined();
      await server.pause();
      try {
        expect(await open.limit('u')).toMatchObject({ allowed: true, error: { code: 'ERR_TIMEOUT' } });
        expect(await closed.limit('u')).toMatchObject({ allowed: false, error: { code: 'ERR_TIMEOUT' } });
      } finally {
        await server.resume();
      }
      const failures = await otel.points('redis_patterns.ratelimit.fail_mode_decisions');
      expect(pointValue(failures, { decision: 'allowed', limiter: 'open-api' })).toBe(1);
      expect(pointValue(failures, { decision: 'denied', limiter: 'closed-api' })).toBe(1);
      const decisions = await otel.points('redis_patterns.ratelimit.decisions');
      expect(pointValue(decisions, { decision: 'allowed', limiter: 'open-api' })).toBe(2);
      const spans = otel.spans('ratelimit limit');
      expect(spans.map((s) => s.attributes['redis_patterns.ratelimit.fail_mode_decided'])).toEqual([
        undefined,
        true,
        true,
      ]);
    }));
});
