import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPOCH_SECONDS } from '../src/algorithms.ts';
import {
  type Algorithm,
  all,
  createRateLimiter,
  fixedWindow,
  InvalidArgumentError,
  type RateLimiter,
  rateLimitHeaders,
  slidingWindowCounter,
  slidingWindowLog,
  tokenBucket,
} from '../src/index.ts';

/** Every algorithm at a configured limit of 10, long enough that nothing leaves during a test. */
const algorithms: Array<[string, () => Algorithm]> = [
  ['sliding window log', () => slidingWindowLog({ limit: 10, windowMs: 600_000 })],
  ['sliding window counter', () => slidingWindowCounter({ limit: 10, windowMs: 86_400_000 })],
  ['fixed window', () => fixedWindow({ limit: 10, windowMs: 600_000 })],
  ['token bucket (GCRA)', () => tokenBucket({ ratePerSec: 0.001, burst: 10 })],
];

/** The `t` of the RateLimit header of a one-policy result. */
const tOf = (headers: Record<string, string>) => Number(/;t=(\d+)/.exec(headers.RateLimit ?? '')?.[1]);

describe.each(topologies())('per-call limits, penalties and the t parameter on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl-tier');
  let n = 0;
  const make = (algorithm: Algorithm): RateLimiter =>
    createRateLimiter({ redis, prefix: `${prefix}${n++}:`, algorithm });

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it.each(algorithms)(
    'keeps a caller’s used quota when it switches tier, with the %s',
    async (_, algorithm) => {
      const limiter = make(algorithm());
      const free = { limit: 5 };
      const pro = { limit: 50 };
      for (const left of [4, 3, 2])
        expect(await limiter.limit('u', free)).toMatchObject({ allowed: true, remaining: left });
      // Upgraded: the 3 units used stay used.
      const upgraded = await limiter.limit('u', pro);
      expect(upgraded).toMatchObject({ allowed: true, remaining: 46, limit: 50 });
      expect(upgraded.policies[0]?.limit).toBe(50);
      expect(rateLimitHeaders(upgraded)['RateLimit-Policy']).toMatch(/;q=50;/);
      // Back on the free tier with 4 used: one more, then refused, with nothing charged for refusals.
      expect(await limiter.limit('u', free)).toMatchObject({ allowed: true, remaining: 0, limit: 5 });
      expect(await limiter.limit('u', free)).toMatchObject({ allowed: false, remaining: 0 });
      expect(await limiter.limit('u')).toMatchObject({ allowed: true, remaining: 4, limit: 10 });
      expect((await limiter.peek('u', pro)).remaining).toBe(44);
    },
  );

  it.each(algorithms)(
    'admits exactly the per-call limit of 200 concurrent calls, with the %s',
    async (_, algorithm) => {
      const limiter = make(algorithm());
      const results = await Promise.all(
        Array.from({ length: 200 }, () => limiter.limit('burst', { limit: 30 })),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(30);
      expect(results.every((r) => r.error === undefined && r.limit === 30)).toBe(true);
    },
  );

  it('takes one limit per limiter for all(), and refuses a bad per-call limit before sending', async () => {
    const a = make(fixedWindow({ limit: 10, windowMs: 600_000 }));
    const b = createRateLimiter({
      redis,
      prefix: `${prefix}${n++}:`,
      name: 'b',
      algorithm: slidingWindowLog({ limit: 10, windowMs: 600_000 }),
    });
    const both = all([a, b]);
    const r = await both.limit('x', { limit: [2, 20] });
    expect(r.policies.map((p) => [p.limit, p.remaining])).toEqual([
      [2, 1],
      [20, 19],
    ]);
    await expect(both.limit('x', { limit: 3 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(a.limit('x', { limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(a.limit('x', { limit: 2, cost: 3 })).rejects.toThrow(/cost/);
    await expect(b.limit('x', { limit: 100_001 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await both.peek('x', { limit: [2, 20] })).policies.map((p) => p.remaining)).toEqual([1, 19]);
  });

  it.each(algorithms)(
    'adds a penalty, gives back a reward and a refund, never below zero, with the %s',
    async (_, algorithm) => {
      const limiter = make(algorithm());
      for (let i = 0; i < 3; i++) await limiter.limit('p');
      expect((await limiter.penalty('p', 5)).remaining).toBe(2);
      expect((await limiter.peek('p')).remaining).toBe(2);
      expect((await limiter.reward('p', 4)).remaining).toBe(6);
      expect((await limiter.refund('p')).remaining).toBe(7);
      expect((await limiter.refund('p', 2)).remaining).toBe(9);
      expect((await limiter.reward('p', 100)).remaining).toBe(10);
      // A penalty past the limit refuses until it is given back; the refusals charge nothing.
      expect((await limiter.penalty('p', 25)).allowed).toBe(false);
      const refused = await limiter.limit('p');
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect((await limiter.reward('p', 16)).remaining).toBe(1);
      expect(await limiter.limit('p')).toMatchObject({ allowed: true, remaining: 0 });
      // A penalty on an identifier never seen starts its count.
      expect((await limiter.penalty('fresh', 4)).remaining).toBe(6);
      await expect(limiter.penalty('p', 0)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(limiter.refund('p', 1.5)).rejects.toBeInstanceOf(InvalidArgumentError);
    },
  );

  it('reports t as the time to the next token for the bucket, not a full refill', async () => {
    // One token every 3.33 s, burst 3: the full refill takes 10 s.
    const limiter = make(tokenBucket({ ratePerSec: 0.3, burst: 3 }));
    let last = await limiter.limit('b');
    for (let i = 0; i < 2; i++) last = await limiter.limit('b');
    expect(last).toMatchObject({ allowed: true, remaining: 0 });
    expect(last.resetMs).toBeGreaterThan(9_900);
    expect(last.policies[0]?.nextUnitMs).toBeGreaterThan(3_200);
    expect(last.policies[0]?.nextUnitMs).toBeLessThanOrEqual(3_334);
    expect(tOf(rateLimitHeaders(last))).toBe(4);
    const refused = await limiter.limit('b');
    expect(tOf(rateLimitHeaders(refused))).toBe(4);
    // With a token left, the next one is still one interval away at most.
    const other = await limiter.limit('c');
    expect(other.remaining).toBe(2);
    expect(tOf(rateLimitHeaders(other))).toBe(4);
  });

  it('reports t for the sliding counter as the time until its estimate gives back a unit', async () => {
    const windowMs = 10_000;
    const limiter = make(slidingWindowCounter({ limit: 3, windowMs }));
    let last = await limiter.limit('s');
    for (let i = 0; i < 2; i++) last = await limiter.limit('s');
    expect(last.remaining).toBe(0);
    const elapsed = (last.serverTimeMs - EPOCH_SECONDS * 1000) % windowMs;
    // This window's 3 units weigh 3 × (1 - f) in the next one: 2 once f = 1/3.
    const expected = windowMs - elapsed + windowMs / 3;
    const next = last.policies[0]?.nextUnitMs as number;
    expect(Math.abs(next - expected)).toBeLessThan(3);
    expect(tOf(rateLimitHeaders(last))).toBe(Math.ceil(next / 1000));
    expect(tOf(rateLimitHeaders(last))).toBeLessThanOrEqual(14);
    // With last window's count weighing in: it shrinks within this window.
    const key = `${prefix}${n - 1}:{w}:counter`;
    const index = Math.floor((last.serverTimeMs - EPOCH_SECONDS * 1000) / windowMs);
    await redis.send(['HSET', key, 'i', String(index - 1), 'c', '3', 'p', '0'], { key });
    const weighted = await limiter.peek('w');
    const f = ((weighted.serverTimeMs - EPOCH_SECONDS * 1000) % windowMs) / windowMs;
    // remaining = floor(3 - 3(1 - f)); one more once 3(1 - f) <= 3 - remaining - 1.
    const target = 3 - weighted.remaining - 1;
    const expectedWeighted = windowMs * (1 - target / 3) - f * windowMs;
    expect(Math.abs((weighted.policies[0]?.nextUnitMs as number) - expectedWeighted)).toBeLessThan(3);
    expect(weighted.policies[0]?.nextUnitMs).toBeLessThanOrEqual(weighted.resetMs);
  });

  it('reports t for the log as the time until its oldest entry leaves, and for the fixed window its end', async () => {
    const log = make(slidingWindowLog({ limit: 3, windowMs: 2_000 }));
    await log.limit('l');
    await sleep(1_100);
    const second = await log.limit('l');
    expect(second.resetMs).toBe(2_000);
    expect(second.policies[0]?.nextUnitMs).toBeLessThanOrEqual(900);
    expect(tOf(rateLimitHeaders(second))).toBe(1);
    const fixed = make(fixedWindow({ limit: 3, windowMs: 5_000 }));
    const first = await fixed.limit('f');
    expect(first.policies[0]?.nextUnitMs).toBe(first.resetMs);
    expect(tOf(rateLimitHeaders(first))).toBe(5);
    expect((await fixed.peek('never')).policies[0]?.nextUnitMs).toBe(0);
  });
});
