// Redis paused or down, the same for every pattern: each call ends within its bound (plus slack for
// a loaded machine) with a typed error, or with the documented fallback (the cache's loader, the
// rate limiter's fail mode); none hangs, and none throws an untyped error.
import { createCache } from '@redis-patterns/cache-aside';
import { connect, type RedisConnection, RedisPatternsError } from '@redis-patterns/connection';
import { createLeaderboard } from '@redis-patterns/leaderboard';
import { createLock } from '@redis-patterns/lock';
import { createQueue } from '@redis-patterns/queue';
import { createRateLimiter, fixedWindow } from '@redis-patterns/rate-limit';
import { createSessionStore, generateId } from '@redis-patterns/session';
import { type RedisServer, startRedis } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BOUND_MS = 400;
/** Slack over a call's bound on a loaded 2-core machine (one sweep tick, scheduling). */
const SLACK_MS = 600;

/** What a call ended with: `typed <code>`, `fallback <value>`, or `untyped <error>`. */
async function outcome(call: () => Promise<unknown>): Promise<{ ended: string; ms: number }> {
  const started = performance.now();
  const ended = await call().then(
    (value) => `fallback ${JSON.stringify(value)}`,
    (err: unknown) => (err instanceof RedisPatternsError ? `typed ${err.code}` : `untyped ${String(err)}`),
  );
  return { ended, ms: performance.now() - started };
}

describe('every pattern with Redis paused, then down', () => {
  let server: RedisServer;
  let redis: RedisConnection;
  let calls: Array<[string, () => Promise<unknown>]>;

  beforeAll(async () => {
    server = await startRedis({ forceBinary: true });
    redis = await connect({ url: server.url, commandTimeoutMs: BOUND_MS, reconnect: { maxDelayMs: 100 } });
    const cache = createCache({ redis, prefix: 'c:', commandTimeoutMs: BOUND_MS });
    const sessions = createSessionStore({ redis, prefix: 's:' });
    const limiter = createRateLimiter({
      redis,
      prefix: 'r:',
      algorithm: fixedWindow({ limit: 5, windowMs: 1_000 }),
      commandTimeoutMs: BOUND_MS,
    });
    const closedLimiter = createRateLimiter({
      redis,
      prefix: 'r2:',
      algorithm: fixedWindow({ limit: 5, windowMs: 1_000 }),
      commandTimeoutMs: BOUND_MS,
      failMode: 'closed',
    });
    const locks = createLock({ redis, prefix: 'l:', retry: { acquireTimeoutMs: BOUND_MS } });
    const queue = createQueue<number>({ redis, prefix: 'q:', name: 'q' });
    const board = createLeaderboard({ redis, prefix: 'b:', name: 'b' });
    calls = [
      ['cache.getOrLoad (falls back to the loader)', () => cache.getOrLoad('k', async () => 'loaded')],
      ['cache.set', () => cache.set('k', 1)],
      ['sessions.create', () => sessions.create({ n: 1 })],
      ['sessions.get', () => sessions.get(generateId())],
      ['limiter.limit, fail open', async () => (await limiter.limit('a')).allowed],
      ['limiter.limit, fail closed', async () => (await closedLimiter.limit('a')).allowed],
      ['locks.acquire', () => locks.acquire('n')],
      ['locks.tryAcquire', () => locks.tryAcquire('n')],
      ['queue.add', () => queue.add(1, { id: 'j1' })],
      ['queue.counts', () => queue.counts()],
      ['board.submit', () => board.submit('m', 1)],
      ['board.around', () => board.around('m', 2)],
    ];
    // Every pattern has run once against a live server (scripts loaded, pools open).
    for (const [, call] of calls) await call().catch(() => {});
  });
  afterAll(async () => {
    await server?.resume().catch(() => {});
    await redis?.close();
    await server?.stop();
  });

  const expected = (name: string) =>
    name.includes('falls back')
      ? 'fallback "loaded"'
      : name.includes('fail open')
        ? 'fallback true'
        : name.includes('fail closed')
          ? 'fallback false'
          : expect.stringMatching(/^typed ERR_(TIMEOUT|CONNECTION)$/);

  it('ends every call within its bound with a typed error or the fallback while Redis is paused', async () => {
    await server.pause();
    try {
      const results = await Promise.all(
        calls.map(async ([name, call]) => [name, await outcome(call)] as const),
      );
      for (const [name, { ended, ms }] of results) {
        expect({ name, ended }).toEqual({ name, ended: expected(name) });
        expect(ms, name).toBeLessThan(BOUND_MS + SLACK_MS);
      }
    } finally {
      await server.resume();
    }
  });

  it('ends every call at once with a typed error or the fallback while Redis is down', async () => {
    await server.kill();
    // The connection has seen the socket close.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const results = await Promise.all(
      calls.map(async ([name, call]) => [name, await outcome(call)] as const),
    );
    for (const [name, { ended, ms }] of results) {
      expect({ name, ended }).toEqual({ name, ended: expected(name) });
      expect(ms, name).toBeLessThan(BOUND_MS + SLACK_MS);
    }
  });
});
