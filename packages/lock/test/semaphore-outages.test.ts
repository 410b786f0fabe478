import { setTimeout as sleep } from 'node:timers/promises';
import {
  connect,
  type RedisConnection,
  TimeoutError as RedisTimeoutError,
  slotOf,
} from '@redis-patterns/connection';
import { type RedisServer, startCluster, startRedis, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadWriteLock, createSemaphore, TimeoutError } from '../src/index.ts';
import { attemptLease } from '../src/lease-attempt.ts';

// Redis paused under the semaphore and the read/write lock, on servers of their own: a single
// server, and a 3-master Cluster whose master owning the name's slot is the one paused.
interface Faulty {
  url: string;
  serverOf(redis: RedisConnection, key: string): Promise<RedisServer>;
  stop(): Promise<void>;
}

const setups: Array<{ name: string; start: () => Promise<Faulty> }> = [
  {
    name: 'standalone',
    async start() {
      const server = await startRedis({ forceBinary: true });
      return { url: server.url, serverOf: async () => server, stop: () => server.stop() };
    },
  },
  {
    name: 'cluster',
    async start() {
      const cluster = await startCluster();
      const hosts = cluster.rootNodes.map((n) => new URL(n.url).host).join(',');
      return {
        url: `redis://${hosts}?cluster=true`,
        async serverOf(redis, key) {
          const slots = await redis.send<Array<[number, number, [string, number]]>>(['CLUSTER', 'SLOTS']);
          const owner = slots.find(([from, to]) => from <= slotOf(key) && slotOf(key) <= to);
          const node = cluster.nodes.find((n) => n.port === Number(owner?.[2]?.[1]));
          if (node === undefined) throw new Error(`no node owns ${key}`);
          return node;
        },
        stop: () => cluster.stop(),
      };
    },
  },
];

/** Polls `count` until it is 0 within `ms`; a failed poll counts as held. */
async function emptiedWithin(count: () => Promise<number>, ms: number): Promise<boolean> {
  for (const until = performance.now() + ms; performance.now() < until; await sleep(50))
    if ((await count().catch(() => 1)) === 0) return true;
  return false;
}

describe.each(setups)('semaphore and read/write lock outages on $name', ({ start }) => {
  let faulty: Faulty;
  let redis: RedisConnection;
  const prefix = uniquePrefix('sem-outage');
  beforeAll(async () => {
    faulty = await start();
    redis = await connect({ url: faulty.url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 100 } });
  });
  afterAll(async () => {
    await redis?.close();
    await faulty?.stop();
  });

  it('rejects within the command timeout while Redis is paused, and takes back the permit the attempt granted once Redis answers', async () => {
    const semaphore = createSemaphore({ redis, prefix, permits: 2 });
    const server = await faulty.serverOf(redis, `${prefix}{paused}`);
    await server.pause();
    const started = performance.now();
    const error = await semaphore.acquire('paused', { acquireTimeoutMs: 5_000 }).catch((err: unknown) => err);
    const elapsed = performance.now() - started;
    await sleep(500);
    await server.resume();
    expect(error).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeLessThan(1_000 + 300);
    // The attempt ran once Redis resumed (a grant nobody holds); the give-back follows it.
    expect(await emptiedWithin(() => semaphore.holders('paused'), 2_000)).toBe(true);
    await semaphore.close();
  });

  it('ends a semaphore wait at its timeout measured from the call, even while Redis is paused', async () => {
    const semaphore = createSemaphore({ redis, prefix, permits: 1 });
    const held = await semaphore.acquire('bounded');
    const server = await faulty.serverOf(redis, `${prefix}{bounded}`);
    await server.pause();
    const started = performance.now();
    const error = await semaphore.acquire('bounded', { acquireTimeoutMs: 500 }).catch((err: unknown) => err);
    const elapsed = performance.now() - started;
    await sleep(300);
    await server.resume();
    expect(error).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(499);
    expect(elapsed).toBeLessThan(500 + 150);
    await sleep(500);
    await held.release();
    expect(await semaphore.holders('bounded')).toBe(0);
    await semaphore.close();
  });

  it('takes back a write lock whose outcome was unknown, so readers are not blocked for its TTL', async () => {
    const rw = createReadWriteLock({ redis, prefix, ttlMs: 30_000 });
    const server = await faulty.serverOf(redis, `${prefix}{rw-paused}:writer`);
    await server.pause();
    const error = await rw
      .acquireWrite('rw-paused', { acquireTimeoutMs: 5_000 })
      .catch((err: unknown) => err);
    await sleep(500);
    await server.resume();
    expect(error).toBeInstanceOf(TimeoutError);
    const free = async () => {
      const state = await rw.state('rw-paused');
      return state.writer || state.writersWaiting > 0 ? 1 : 0;
    };
    expect(await emptiedWithin(free, 2_000)).toBe(true);
    const reader = await rw.acquireRead('rw-paused', { acquireTimeoutMs: 1_000 });
    await reader.release();
    await rw.close();
  });
});

describe('give-back after an unconfirmed release', () => {
  it('takes back a grant held longer than its ttlMs, retrying from the release on', async () => {
    let takeBacks = 0;
    let answering = false;
    const attempt = {
      conn: {} as RedisConnection,
      kind: 'semaphore' as const,
      name: 'held-long',
      owner: 'o1',
      ttlMs: 100,
      autoExtend: false,
      request: async () => ({ granted: true as const, fencingToken: 1 }),
      takeBack: async () => {
        takeBacks++;
        if (!answering) throw new RedisTimeoutError('paused', 10);
      },
      holding: () => ({
        key: 'k',
        extend: async () => true,
        release: async (): Promise<boolean> => {
          throw new RedisTimeoutError('paused', 10);
        },
      }),
    };
    const { lease } = await attemptLease(attempt);
    if (lease === undefined) throw new Error('not granted');
    await lease.extend(1_000); // held past the attempt's ttlMs: the last TTL set is 1 s
    await sleep(150);
    await expect(lease.release()).rejects.toBeInstanceOf(RedisTimeoutError);
    await sleep(200); // Redis still "paused": the give-back keeps retrying
    expect(takeBacks).toBeGreaterThan(1);
    answering = true;
    await sleep(500); // Redis answers again: taken back well before the 1 s TTL from the release
    const done = takeBacks;
    await sleep(300);
    expect(takeBacks).toBe(done);
  });
});
