import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import {
  commandsRun,
  type RedisServer,
  scriptsIn,
  startRedis,
  topologies,
  uniquePrefix,
} from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Algorithm,
  all,
  createRateLimiter,
  fixedWindow,
  InvalidArgumentError,
  slidingWindowLog,
  tokenBucket,
} from '../src/index.ts';

const BLOCK_MS = 1_000;

describe.each(topologies())('blocks on $name', ({ url }) => {
  let redis: RedisConnection;
  let other: RedisConnection;
  const prefix = uniquePrefix('rl-block');
  let n = 0;

  beforeAll(async () => {
    [redis, other] = await Promise.all([connect({ url }), connect({ url })]);
  });
  afterAll(async () => {
    await Promise.all([redis?.close(), other?.close()]);
  });

  it.each<[string, () => Algorithm]>([
    ['fixed window', () => fixedWindow({ limit: 2, windowMs: 200 })],
    ['token bucket (GCRA)', () => tokenBucket({ ratePerSec: 10, burst: 2 })],
  ])(
    'blocks an identifier past its limit for blockDurationMs, charging nothing meanwhile (%s)',
    async (_, algorithm) => {
      const limiter = createRateLimiter({
        redis,
        prefix: `${prefix}${n++}:`,
        algorithm: algorithm(),
        blockDurationMs: BLOCK_MS,
      });
      expect((await limiter.limit('a')).allowed).toBe(true);
      expect((await limiter.limit('a')).allowed).toBe(true);
      const refused = await limiter.limit('a');
      expect(refused).toMatchObject({ allowed: false, remaining: 0, blockedMs: BLOCK_MS });
      expect(refused.retryAfterMs).toBe(BLOCK_MS);
      // The limit itself frees up within 200 ms; the block holds, and nobody else is blocked.
      await sleep(300);
      const still = await limiter.limit('a');
      expect(still.allowed).toBe(false);
      expect(still.blockedMs).toBeGreaterThan(BLOCK_MS - 400);
      expect(still.blockedMs).toBeLessThanOrEqual(BLOCK_MS - 290);
      expect((await limiter.peek('a')).allowed).toBe(false);
      expect((await limiter.limit('b')).allowed).toBe(true);
      await sleep((still.blockedMs as number) + 5);
      // Over: the blocked calls were not charged, so the full limit is there.
      const after = await limiter.limit('a');
      expect(after).toMatchObject({ allowed: true, remaining: 1 });
      expect(after.blockedMs).toBeUndefined();
    },
  );

  it('blocks for all() and lifts a block on reset()', async () => {
    const a = createRateLimiter({
      redis,
      prefix: `${prefix}${n++}:`,
      name: 'a',
      algorithm: fixedWindow({ limit: 1, windowMs: 60_000 }),
    });
    const b = createRateLimiter({
      redis,
      prefix: `${prefix}${n++}:`,
      name: 'b',
      algorithm: slidingWindowLog({ limit: 5, windowMs: 60_000 }),
    });
    const both = all([a, b], { blockDurationMs: 60_000 });
    expect((await both.limit('x')).allowed).toBe(true);
    const refused = await both.limit('x');
    expect(refused.blockedMs).toBe(60_000);
    expect(refused.policies.every((p) => !p.allowed && p.retryAfterMs >= 60_000)).toBe(true);
    // A penalty or reward reports the block; neither lifts it.
    expect((await both.reward('x', 1)).blockedMs).toBeGreaterThan(59_000);
    expect((await both.limit('x')).allowed).toBe(false);
    await both.reset('x');
    expect((await both.limit('x')).allowed).toBe(true);
  });

  it('refuses bad block options synchronously', () => {
    const algorithm = fixedWindow({ limit: 1, windowMs: 1000 });
    expect(() => createRateLimiter({ redis, algorithm, blockDurationMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => createRateLimiter({ redis, algorithm, localBlockCache: true })).toThrow(/blockDurationMs/);
    expect(() =>
      createRateLimiter({ redis, algorithm, blockDurationMs: 10, localBlockCache: { maxEntries: 0 } }),
    ).toThrow(InvalidArgumentError);
  });

  it('lets a limiter with the local cache refuse a blocked caller from memory until Redis’s block ends', async () => {
    const own = `${prefix}${n++}:`;
    const options = {
      prefix: own,
      algorithm: fixedWindow({ limit: 3, windowMs: 100 }),
      blockDurationMs: BLOCK_MS,
    };
    const cached = createRateLimiter({ ...options, redis, localBlockCache: true });
    // Another process's view: its own connection, no cache.
    const plain = createRateLimiter({ ...options, redis: other });
    for (let i = 0; i < 3; i++) expect((await plain.limit('c')).allowed).toBe(true);
    const blocked = await plain.limit('c');
    expect(blocked.blockedMs).toBe(BLOCK_MS);
    // The cached limiter learns the block from Redis once, then answers from memory.
    const learned = await cached.limit('c');
    expect(learned.allowed).toBe(false);
    const ends = performance.now() + (learned.blockedMs as number);
    const started = performance.now();
    const local = await Promise.all(Array.from({ length: 1000 }, () => cached.limit('c')));
    expect(performance.now() - started).toBeLessThan(100);
    expect(local.every((r) => !r.allowed && r.error === undefined && (r.blockedMs as number) > 0)).toBe(true);
    expect(local.every((r) => r.retryAfterMs >= (r.blockedMs as number))).toBe(true);
    // Both see the same end: poll until each admits again.
    const admittedAt = async (limiter: typeof cached) => {
      for (;;) {
        if ((await limiter.limit('c')).allowed) return performance.now();
        await sleep(5);
      }
    };
    const cachedAt = await admittedAt(cached);
    expect(cachedAt).toBeGreaterThanOrEqual(ends - 1);
    // Within a small skew of Redis's end (the reply's travel time, the poll's 5 ms).
    expect(cachedAt - ends).toBeLessThan(60);
    expect((await plain.limit('c')).allowed).toBe(true);
  });
});

describe('the local block cache against a private redis-server', () => {
  let server: RedisServer;
  let redis: RedisConnection;
  beforeAll(async () => {
    server = await startRedis({ forceBinary: true });
    redis = await connect({ url: server.url });
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('sends nothing to Redis for a blocked caller until the block ends, then asks again', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: 'cache:',
      algorithm: fixedWindow({ limit: 2, windowMs: 60_000 }),
      blockDurationMs: 500,
      localBlockCache: { maxEntries: 100 },
    });
    for (let i = 0; i < 3; i++) await limiter.limit('hammer');
    const blocked = await commandsRun(redis, async () => {
      for (let i = 0; i < 500; i++) expect((await limiter.limit('hammer')).allowed).toBe(false);
      expect((await limiter.peek('hammer')).allowed).toBe(false);
    });
    expect(scriptsIn(blocked)).toBe(0);
    await sleep(520);
    expect(scriptsIn(await commandsRun(redis, () => limiter.limit('hammer')))).toBe(1);
  });
});
