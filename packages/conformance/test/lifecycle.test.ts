// One surface for every pattern: each package re-exports the connection and every error it can
// throw; every top-level object has close() and Symbol.asyncDispose, after which calls fail with
// ClosedError and write nothing; and a script over a plain node-redis client exits by itself once
// it closes its client.
import * as cacheAside from '@redis-patterns/cache-aside';
import * as connection from '@redis-patterns/connection';
import { ClosedError, connect, type RedisConnection } from '@redis-patterns/connection';
import * as leaderboard from '@redis-patterns/leaderboard';
import * as lock from '@redis-patterns/lock';
import * as queue from '@redis-patterns/queue';
import * as rateLimit from '@redis-patterns/rate-limit';
import * as session from '@redis-patterns/session';
import { startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const patterns = { cacheAside, leaderboard, lock, queue, rateLimit, session };
const shared = [
  'connect',
  'toConnection',
  'RedisPatternsError',
  'ClosedError',
  'ConnectionError',
  'InvalidArgumentError',
  'TimeoutError',
] as const;

describe('every pattern package', () => {
  it.each(Object.entries(patterns))('%s re-exports connect, toConnection and the errors', (_, module) => {
    const own = module as Record<string, unknown>;
    const theirs = connection as Record<string, unknown>;
    for (const name of shared) expect(own[name], name).toBe(theirs[name]);
  });

  it('re-exports OwnershipLostError where a lease can be lost (lock, queue)', () => {
    expect(lock.OwnershipLostError).toBe(connection.OwnershipLostError);
    expect(queue.OwnershipLostError).toBe(connection.OwnershipLostError);
  });
});

const [standalone] = topologies();

describe('close() on every top-level object', () => {
  let redis: RedisConnection;
  const p = uniquePrefix('close');
  beforeAll(async () => {
    redis = await connect({ url: standalone?.url as string });
  });
  afterAll(async () => {
    await redis?.close();
  });

  /** [object, a call that would write] for each top-level object, each under its own prefix. */
  const objects = (): Array<[string, { close(): Promise<void> }, (o: never) => Promise<unknown>]> => {
    const q = queue.createQueue<number>({ redis, prefix: `${p}q:`, name: 'q' });
    return [
      ['cache', cacheAside.createCache({ redis, prefix: `${p}c:` }), (c: cacheAside.Cache) => c.set('k', 1)],
      [
        'session store',
        session.createSessionStore({ redis, prefix: `${p}s:` }),
        (s: session.SessionStore) => s.create({}),
      ],
      [
        'rate limiter',
        rateLimit.createRateLimiter({
          redis,
          prefix: `${p}r:`,
          algorithm: rateLimit.fixedWindow({ limit: 5, windowMs: 1_000 }),
        }),
        (l: rateLimit.RateLimiter) => l.limit('a'),
      ],
      ['lock', lock.createLock({ redis, prefix: `${p}l:` }), (l: lock.DistributedLock) => l.acquire('a')],
      [
        'semaphore',
        lock.createSemaphore({ redis, prefix: `${p}sem:`, permits: 2 }),
        (s: lock.DistributedSemaphore) => s.acquire('a'),
      ],
      [
        'read/write lock',
        lock.createReadWriteLock({ redis, prefix: `${p}rw:` }),
        (l: lock.DistributedReadWriteLock) => l.acquireWrite('a'),
      ],
      ['queue', q, (x: queue.Queue<number>) => x.add(1)],
      ['worker', queue.createWorker(q, () => {}), async (w: queue.Worker<number>) => w.start()],
      [
        'leaderboard',
        leaderboard.createLeaderboard({ redis, prefix: `${p}b:`, name: 'b' }),
        (b: leaderboard.Leaderboard) => b.submit('a', 1),
      ],
      [
        'periodic leaderboard',
        leaderboard.createPeriodicLeaderboard({ redis, prefix: `${p}pb:`, name: 'pb', cycle: 'daily' }),
        (b: leaderboard.PeriodicLeaderboard) => b.submit('a', 1),
      ],
      [
        'leaderboard matrix',
        leaderboard.createLeaderboardMatrix({
          redis,
          prefix: `${p}m:`,
          name: 'm',
          boards: { all: {}, daily: { cycle: 'daily' } },
        }),
        (m: leaderboard.LeaderboardMatrix) => m.submit('a', 1),
      ],
    ] as never;
  };

  it('refuses every later call with ClosedError, writes nothing, and closes twice without error', async () => {
    for (const [name, object, write] of objects()) {
      expect(typeof (object as Partial<AsyncDisposable>)[Symbol.asyncDispose], name).toBe('function');
      await object.close();
      await object.close();
      await expect(write(object as never), name).rejects.toBeInstanceOf(ClosedError);
    }
    // A board handed out before the close is closed with its periodic leaderboard.
    const periodic = leaderboard.createPeriodicLeaderboard({
      redis,
      prefix: `${p}pb:`,
      name: 'pb2',
      cycle: 'daily',
    });
    const today = periodic.current();
    await periodic[Symbol.asyncDispose]();
    await expect(today.submit('a', 1)).rejects.toBeInstanceOf(ClosedError);
    // A closed session store refuses reads too (its framework adapters go through the same check).
    const store = session.createSessionStore({ redis, prefix: `${p}s2:` });
    await store[Symbol.asyncDispose]();
    await expect(store.get('x'.repeat(43))).rejects.toBeInstanceOf(ClosedError);
    expect(await redis.send<string[]>(['KEYS', `${p}*`])).toEqual([]);
  });
});

const fixture = new URL('./fixtures/plain-client.mjs', import.meta.url).pathname;
const names = ['lock', 'semaphore', 'cache', 'session', 'rate-limit', 'queue', 'leaderboard'];

describe.each(topologies())('a script over a plain node-redis client on $name', ({ url }) => {
  const p = uniquePrefix('exit');
  // Each child runs its pattern, closes, and must exit within a second or two; its own watchdog
  // exits with 3 after 5 s if something still holds it open.
  it.each(names.flatMap((name) => [[name, 'client'] as const, [name, 'both'] as const]))(
    '%s: exits by itself after closing %s',
    async (name, closing) => {
      const child = startChild(fixture, [url, name, `${p}${name}:${closing}:`, closing]);
      await child.line('closed', 15_000);
      const started = performance.now();
      const exit = await child.exited;
      expect({ exit, lines: child.lines, stderr: child.stderr }).toEqual({
        exit: { code: 0, signal: null },
        lines: ['closed'],
        stderr: '',
      });
      expect(performance.now() - started).toBeLessThan(4_000);
    },
    20_000,
  );
});
