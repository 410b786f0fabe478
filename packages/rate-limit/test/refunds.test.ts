import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Algorithm,
  all,
  createRateLimiter,
  fixedWindow,
  InvalidArgumentError,
  type RateLimiter,
  slidingWindowCounter,
  slidingWindowLog,
} from '../src/index.ts';

// Windows short enough to cross within a test, long enough for a loaded machine's round trips.
const WINDOW_MS = 400;

describe.each(topologies())('refunds of a charge on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl-refund');
  let n = 0;
  const make = (algorithm: Algorithm): RateLimiter =>
    createRateLimiter({ redis, prefix: `${prefix}${n++}:`, algorithm });

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis.close();
  });

  it.each<[string, () => Algorithm]>([
    ['fixed window', () => fixedWindow({ limit: 2, windowMs: WINDOW_MS })],
    ['sliding window counter', () => slidingWindowCounter({ limit: 2, windowMs: WINDOW_MS })],
    ['sliding window log', () => slidingWindowLog({ limit: 2, windowMs: WINDOW_MS })],
  ])(
    'gives nothing back to a later window when the %s refunds a call charged in an earlier one',
    async (_, algorithm) => {
      const limiter = make(algorithm());
      const early = await limiter.limit('x');
      expect(early.allowed).toBe(true);
      // Past the charged window, and for the counter past the one after it, so nothing of it weighs.
      await sleep(WINDOW_MS * 2 + 50);
      const fresh = [await limiter.limit('x'), await limiter.limit('x'), await limiter.limit('x')];
      expect(fresh.map((r) => r.allowed)).toEqual([true, true, false]);
      await limiter.refund('x', 1, { charge: early });
      // The late refund must not raise this window's quota: still refused.
      expect((await limiter.limit('x')).allowed).toBe(false);
    },
  );

  it.each<[string, () => Algorithm]>([
    ['fixed window', () => fixedWindow({ limit: 2, windowMs: 60_000 })],
    ['sliding window counter', () => slidingWindowCounter({ limit: 2, windowMs: 60_000 })],
    ['sliding window log', () => slidingWindowLog({ limit: 2, windowMs: 60_000 })],
  ])('gives back a call charged in the live window with the %s', async (_, algorithm) => {
    const limiter = make(algorithm());
    const first = await limiter.limit('y');
    await limiter.limit('y');
    expect((await limiter.limit('y')).allowed).toBe(false);
    expect((await limiter.refund('y', 1, { charge: first })).remaining).toBe(1);
    expect((await limiter.limit('y')).allowed).toBe(true);
    expect((await limiter.limit('y')).allowed).toBe(false);
  });

  it('drops the refunded call’s own log entries, not the newest', async () => {
    const limiter = make(slidingWindowLog({ limit: 2, windowMs: 1_000 }));
    const first = await limiter.limit('z');
    await sleep(300);
    await limiter.limit('z');
    await limiter.refund('z', 1, { charge: first });
    // The entry left is the second call's: it leaves ~1,000 ms after that call, not after the first.
    const peek = await limiter.peek('z');
    expect(peek.remaining).toBe(1);
    expect(peek.policies[0]?.nextUnitMs).toBeGreaterThan(800);
  });

  it('refuses a charge that is not a result of limit(), before anything is sent', async () => {
    const limiter = make(fixedWindow({ limit: 2, windowMs: 60_000 }));
    await expect(limiter.refund('w', 1, { charge: {} as never })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(limiter.reward('w', 1, { charge: {} } as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await redis.send<string[]>(['KEYS', `${prefix}*{w}*`], { key: `{w}` })).toEqual([]);
  });

  it('keeps the block of all() apart from its first limiter’s own block', async () => {
    const a = createRateLimiter({
      redis,
      prefix: `${prefix}a:`,
      name: 'a',
      algorithm: fixedWindow({ limit: 100, windowMs: 60_000 }),
      blockDurationMs: 1_000,
    });
    const b = createRateLimiter({
      redis,
      prefix: `${prefix}b:`,
      name: 'b',
      algorithm: fixedWindow({ limit: 1, windowMs: 60_000 }),
    });
    const both = all([a, b], { blockDurationMs: 60_000 });
    expect((await both.limit('v')).allowed).toBe(true);
    const refused = await both.limit('v');
    expect(refused.allowed).toBe(false);
    expect(refused.blockedMs).toBeGreaterThan(50_000);
    // a's own calls are not blocked by the combined limiter's block.
    const own = await a.limit('v');
    expect(own.allowed).toBe(true);
    expect(own.blockedMs).toBeUndefined();
  });
});
