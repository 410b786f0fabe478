import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Algorithm,
  all,
  createRateLimiter,
  fixedWindow,
  type RateLimiter,
  type RateLimitResult,
  slidingWindowCounter,
  slidingWindowLog,
  tokenBucket,
} from '../src/index.ts';
import { serverUs } from './server-times.ts';

vi.mock('../src/result.ts', async (importOriginal) =>
  (await import('./server-times.ts')).recordServerTimes(importOriginal),
);

/** Exact algorithms at limit 100. The bucket refills 0.01 tokens/s: less than one token during any burst. */
const exact: Array<[string, () => Algorithm]> = [
  ['sliding window log', () => slidingWindowLog({ limit: 100, windowMs: 60_000 })],
  ['fixed window', () => fixedWindow({ limit: 100, windowMs: 60_000 })],
  ['token bucket (GCRA)', () => tokenBucket({ ratePerSec: 0.01, burst: 100 })],
];

describe.each(topologies())('rate limiting on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl');
  let n = 0;
  const make = (algorithm: Algorithm, name?: string): RateLimiter =>
    createRateLimiter({ redis, prefix: `${prefix}${n++}:`, algorithm, ...(name ? { name } : {}) });

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it.each(exact)('admits exactly 100 of 500 concurrent calls with the %s', async (_, algorithm) => {
    const limiter = make(algorithm());
    const results = await Promise.all(Array.from({ length: 500 }, () => limiter.limit('burst')));
    expect(results.filter((r) => r.allowed)).toHaveLength(100);
    expect(results.every((r) => r.error === undefined && r.remaining >= 0)).toBe(true);
    expect(new Set(results.filter((r) => r.allowed).map((r) => r.remaining)).size).toBe(100);
    expect((await limiter.peek('burst')).remaining).toBe(0);
  });

  it.each(exact)(
    'decides calls made in one tick (batched) like the same calls one at a time, with the %s',
    async (_, algorithm) => {
      const together = make(algorithm());
      const alone = make(algorithm());
      // 40 identifiers, costs 1-3, a peek among them: 300 checks sent in one tick.
      const calls = Array.from({ length: 300 }, (_, i) => ({
        id: `id${(i * 7) % 40}`,
        cost: 1 + (i % 3),
        peek: i % 50 === 0,
      }));
      const run = (limiter: RateLimiter, c: (typeof calls)[0]) =>
        c.peek ? limiter.peek(c.id, { cost: c.cost }) : limiter.limit(c.id, { cost: c.cost });
      const batched = await Promise.all(calls.map((c) => run(together, c)));
      const sequential = [];
      for (const c of calls) sequential.push(await run(alone, c));
      const view = (r: { allowed: boolean; remaining: number }) => [r.allowed, r.remaining];
      expect(batched.map(view)).toEqual(sequential.map(view));
      expect(batched.every((r) => r.error === undefined)).toBe(true);
    },
  );

  it('decides each limiter against its own numbers when limiters of one algorithm share a tick', async () => {
    // One connection, one algorithm, four sets of numbers: the tick's checks split by numbers.
    const limiters = [
      make(fixedWindow({ limit: 3, windowMs: 60_000 })),
      make(fixedWindow({ limit: 5, windowMs: 60_000 })),
      make(fixedWindow({ limit: 5, windowMs: 120_000 })),
      make(slidingWindowLog({ limit: 7, windowMs: 60_000 })),
      make(tokenBucket({ ratePerSec: 0.01, burst: 2 })),
    ];
    const ids = ['a', 'b', 'c'];
    // Interleaved: limiter, identifier and peeks alternate within the tick.
    const calls = Array.from({ length: 200 }, (_, i) => ({
      limiter: limiters[i % limiters.length] as RateLimiter,
      id: ids[i % ids.length] as string,
      peek: i % 11 === 0,
    }));
    const results = await Promise.all(
      calls.map((c) => (c.peek ? c.limiter.peek(c.id) : c.limiter.limit(c.id))),
    );
    expect(results.every((r) => r.error === undefined)).toBe(true);
    for (const limiter of limiters) {
      const size = limiter.policies[0]?.limit as number;
      for (const id of ids) {
        const mine = calls
          .map((c, i) => ({ ...c, result: results[i] as RateLimitResult }))
          .filter((c) => c.limiter === limiter && c.id === id);
        const charged = mine.filter((c) => c.result.allowed && !c.peek);
        expect(charged, `${limiter.policies[0]?.algorithm} ${size} ${id}`).toHaveLength(size);
        // Admitted until the limit, refused after: each check saw the ones before it.
        expect(mine.filter((c) => !c.peek).map((c) => c.result.allowed)).toEqual(
          mine.filter((c) => !c.peek).map((_, k) => k < size),
        );
        expect(mine.every((c) => c.result.limit === size)).toBe(true);
        expect((await limiter.peek(id)).remaining).toBe(0);
      }
    }
  });

  it('applies a reset issued before checks of the same tick to them, whichever call they share', async () => {
    const limiter = make(fixedWindow({ limit: 3, windowMs: 60_000 }));
    const ids = Array.from({ length: 30 }, (_, i) => `reset${i}`);
    await Promise.all(ids.map((id) => limiter.limit(id, { cost: 3 })));
    for (let round = 0; round < 5; round++) {
      // Not awaited: every DEL is on the wire before the checks are batched; each check uses the window up again.
      const resets = ids.map((id) => limiter.reset(id));
      const checks = await Promise.all(ids.map((id) => limiter.limit(id, { cost: 3 })));
      await Promise.all(resets);
      expect(checks.map((c) => c.allowed)).toEqual(ids.map(() => true));
    }
  });

  it('fails only the check whose key Redis refuses when checks share a call, and charges the rest once', async () => {
    const own = `${prefix}wrongtype:`;
    const limiter = createRateLimiter({
      redis,
      prefix: own,
      algorithm: fixedWindow({ limit: 5, windowMs: 60_000 }),
      failMode: 'closed',
    });
    // Someone else's string where one identifier's window should be.
    await redis.send(['SET', `${own}{bad}:fixed`, 'not a window'], { key: `${own}{bad}:fixed` });
    const ids = ['w0', 'w1', 'w2', 'bad', 'w3', 'w4', 'w5'];
    const results = await Promise.all(ids.map((id) => limiter.limit(id)));
    for (const [i, id] of ids.entries()) {
      const r = results[i];
      if (id === 'bad') expect(r).toMatchObject({ allowed: false, error: expect.any(Error) });
      else {
        expect(r, id).toMatchObject({ allowed: true, remaining: 4 });
        expect(r?.error, id).toBeUndefined();
      }
    }
    for (const id of ids.filter((id) => id !== 'bad')) expect((await limiter.peek(id)).remaining, id).toBe(4);
  });

  it('admits no more when the server clock has stepped back (state written ahead of now)', async () => {
    const own = `${prefix}clockback:`;
    const windowMs = 60_000;
    const log = createRateLimiter({
      redis,
      prefix: own,
      algorithm: slidingWindowLog({ limit: 5, windowMs }),
    });
    const counter = createRateLimiter({
      redis,
      prefix: own,
      algorithm: slidingWindowCounter({ limit: 5, windowMs }),
    });
    const now = serverUs(await log.peek('back'));
    // What a clock ahead left behind: the log full 10 s from now, the counter's next window used up.
    const logKey = `${own}{back}:loglist`;
    await redis.send(['LPUSH', logKey, ...Array.from({ length: 5 }, () => String(now + 10_000_000))], {
      key: logKey,
    });
    const counterKey = `${own}{back}:counter`;
    const index = Math.floor(now / (windowMs * 1000)) + 1;
    await redis.send(['HSET', counterKey, 'i', String(index), 'c', '5', 'p', '0'], { key: counterKey });
    const logged = await log.limit('back');
    expect(logged).toMatchObject({ allowed: false, remaining: 0 });
    expect(logged.retryAfterMs).toBeGreaterThan(windowMs);
    const counted = await counter.limit('back');
    expect(counted.allowed).toBe(false);
    // Retry is counted from now: the stored window has not even begun by this clock.
    const begins = (index * windowMs * 1000 - serverUs(counted)) / 1000;
    expect(counted.retryAfterMs).toBeGreaterThan(begins + windowMs - 1);
    expect(counted.resetMs).toBeGreaterThan(begins + 2 * windowMs - 1);
    expect(await redis.send(['LLEN', logKey], { key: logKey })).toBe(5);
    expect(await redis.send(['HGET', counterKey, 'c'], { key: counterKey })).toBe('5');
    await redis.send(['DEL', logKey, counterKey], { keys: [logKey, counterKey] });
  });

  it('opens a fresh counter window when windowMs grows on the same prefix', async () => {
    const own = `${prefix}regrow:`;
    const short = createRateLimiter({
      redis,
      prefix: own,
      algorithm: slidingWindowCounter({ limit: 2, windowMs: 60_000 }),
    });
    await short.limit('grow');
    await short.limit('grow');
    expect((await short.limit('grow')).allowed).toBe(false);
    // The stored window index counts minutes; the new limiter counts hours (a far smaller index).
    const long = createRateLimiter({
      redis,
      prefix: own,
      algorithm: slidingWindowCounter({ limit: 2, windowMs: 3_600_000 }),
    });
    const first = await long.limit('grow');
    expect(first).toMatchObject({ allowed: true, remaining: 1 });
    expect(first.resetMs).toBeLessThanOrEqual(2 * 3_600_000);
  });

  it('keeps the sliding window counter within its documented bound under 500 concurrent calls', async () => {
    const limiter = make(slidingWindowCounter({ limit: 100, windowMs: 60_000 }));
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 500 }, () => limiter.limit('burst')));
    const burstMs = performance.now() - started;
    const admitted = results.filter((r) => r.allowed).length;
    // Within one window the counter is exact; a burst straddling a window edge may admit up to
    // limit × (share of the new window elapsed) more: below one call for a burst this short.
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(admitted).toBeLessThanOrEqual(100 + Math.floor((100 * burstMs) / 60_000));
  });

  it.each([
    ['sliding window log', () => slidingWindowLog({ limit: 12, windowMs: 60_000 })],
    ['sliding window counter', () => slidingWindowCounter({ limit: 12, windowMs: 86_400_000 })],
    ['fixed window', () => fixedWindow({ limit: 12, windowMs: 60_000 })],
    ['token bucket (GCRA)', () => tokenBucket({ ratePerSec: 0.001, burst: 12 })],
  ])(
    'charges cost > 1 whole or not at all, and refuses cost > limit with a typed error (%s)',
    async (_, algorithm) => {
      const limiter = make(algorithm());
      expect(await limiter.limit('c', { cost: 5 })).toMatchObject({ allowed: true, remaining: 7 });
      expect(await limiter.limit('c', { cost: 5 })).toMatchObject({ allowed: true, remaining: 2 });
      const refused = await limiter.limit('c', { cost: 5 });
      expect(refused).toMatchObject({ allowed: false, remaining: 2 });
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(await limiter.limit('c', { cost: 2 })).toMatchObject({ allowed: true, remaining: 0 });
      await expect(limiter.limit('c', { cost: 13 })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        argument: 'cost',
      });
      await limiter.reset('c');
      expect(await limiter.peek('c', { cost: 12 })).toMatchObject({ allowed: true, remaining: 12 });
    },
  );

  it('records a sliding-log cost of thousands of units in one call (no Lua stack overflow)', async () => {
    const limiter = make(slidingWindowLog({ limit: 20_000, windowMs: 60_000 }));
    const first = await limiter.limit('big', { cost: 9_000 });
    expect(first).toMatchObject({ allowed: true, remaining: 11_000 });
    expect(first.error).toBeUndefined();
    expect(await limiter.limit('big', { cost: 11_000 })).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.limit('big')).toMatchObject({ allowed: false });
  });

  it('charges nothing to any limit when one of several refuses, on one hash slot', async () => {
    const perSecond = createRateLimiter({
      redis,
      prefix: `${prefix}sec:`,
      name: 'per-second',
      algorithm: fixedWindow({ limit: 2, windowMs: 1_500 }),
    });
    const perHour = createRateLimiter({
      redis,
      prefix: `${prefix}hour:`,
      name: 'per-hour',
      algorithm: slidingWindowLog({ limit: 3, windowMs: 3_600_000 }),
    });
    const both = all([perSecond, perHour]);
    expect(both.policies.map((p) => p.name)).toEqual(['per-second', 'per-hour']);
    expect((await both.limit('k')).allowed).toBe(true);
    expect((await both.limit('k')).allowed).toBe(true);
    const third = await both.limit('k');
    expect(third).toMatchObject({ allowed: false, limit: 2 });
    expect(third.policies.map((p) => p.allowed)).toEqual([false, true]);
    // The hour limit was not charged for the refused call.
    expect((await perHour.peek('k')).remaining).toBe(1);

    await sleep(third.retryAfterMs + 5);
    expect((await both.limit('k')).allowed).toBe(true);
    const fifth = await both.limit('k');
    expect(fifth).toMatchObject({ allowed: false, limit: 3 });
    expect(fifth.retryAfterMs).toBeGreaterThan(3_500_000);
    // ...and the second limit was not charged when the hour limit refused.
    expect((await perSecond.peek('k')).remaining).toBe(1);

    await both.reset('k');
    expect((await perHour.peek('k')).remaining).toBe(3);
  });
});
