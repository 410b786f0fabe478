import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EPOCH_SECONDS } from '../src/algorithms.ts';
import { createRateLimiter, fixedWindow } from '../src/index.ts';
import { serverUs } from './server-times.ts';

vi.mock('../src/result.ts', async (importOriginal) =>
  (await import('./server-times.ts')).recordServerTimes(importOriginal),
);

// The fixed window charges with HINCRBY before it knows whether the cost fits, and gives a refused
// cost back in the same script (src/lua/lib/fixed.lua): what Redis holds afterwards must be as if
// the refused calls had never come.
describe.each(topologies())('the fixed window in Redis on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rlfw');
  const limit = 5;
  const windowMs = 60_000;

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  const stored = async (key: string) => ({
    hash: await redis.send(['HGETALL', key], { key }),
    expiresAt: await redis.send(['PEXPIRETIME', key], { key }),
  });

  it('leaves the count and the expiry as they were after refused charges, alone or many in one call', async () => {
    const limiter = createRateLimiter({ redis, prefix, algorithm: fixedWindow({ limit, windowMs }) });
    for (let i = 0; i < limit; i++) expect((await limiter.limit('full')).allowed).toBe(true);
    const key = `${prefix}{full}:fixed`;
    const before = await stored(key);
    expect(before.hash).toMatchObject({ c: String(limit) });

    const alone = await limiter.limit('full');
    expect(alone).toMatchObject({ allowed: false, remaining: 0 });
    expect(alone.retryAfterMs).toBeGreaterThan(windowMs - 5_000);
    // The first goes out alone; the rest, issued while it is in flight, share batch script calls
    // (one per hash slot: on Cluster, 'other' is in another), with a check that is admitted.
    const [first, other, ...refused] = await Promise.all([
      limiter.limit('full'),
      limiter.limit('other', { cost: 2 }),
      ...Array.from({ length: 20 }, (_, i) => limiter.limit('full', { cost: 1 + (i % 3) })),
    ]);
    expect(other).toMatchObject({ allowed: true, remaining: limit - 2 });
    for (const r of [first, ...refused]) expect(r).toMatchObject({ allowed: false, remaining: 0 });
    expect(await stored(key)).toEqual(before);
    expect(await limiter.peek('full')).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('gives back only the refused cost when a penalty took the count past the limit', async () => {
    const limiter = createRateLimiter({ redis, prefix, algorithm: fixedWindow({ limit, windowMs }) });
    await limiter.limit('fined');
    await limiter.penalty('fined', limit + 3);
    const key = `${prefix}{fined}:fixed`;
    expect(await redis.send(['HGET', key, 'c'], { key })).toBe(String(limit + 4));
    expect(await limiter.limit('fined', { cost: 2 })).toMatchObject({ allowed: false, remaining: 0 });
    expect(await redis.send(['HGET', key, 'c'], { key })).toBe(String(limit + 4));
  });

  it('opens a new window when the stored one has ended but its key has not expired yet', async () => {
    const limiter = createRateLimiter({ redis, prefix, algorithm: fixedWindow({ limit, windowMs }) });
    const now = serverUs(await limiter.peek('late'));
    const key = `${prefix}{late}:fixed`;
    // A used-up window that ended a millisecond ago (a key lives to the millisecond after its window).
    const ended = now - windowMs * 1000 - 1_000;
    await redis.send(['HSET', key, 's', String(ended), 'c', String(limit)], { key });
    await redis.send(['PEXPIRE', key, '5000'], { key });

    const first = await limiter.limit('late', { cost: 2 });
    expect(first).toMatchObject({ allowed: true, remaining: limit - 2, resetMs: windowMs });
    const start = Number(await redis.send(['HGET', key, 's'], { key }));
    expect(start).toBe(serverUs(first));
    expect(await redis.send(['HGET', key, 'c'], { key })).toBe('2');
    // The new window's own expiry (lib/expires-at: its end, rounded up to the ms), not the old key's.
    const expiresAt = Number(await redis.send(['PEXPIRETIME', key], { key }));
    expect(expiresAt).toBe(EPOCH_SECONDS * 1000 + Math.ceil((start + windowMs * 1000) / 1000));
  });
});
