import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection, slotOf } from '@redis-patterns/connection';
import {
  type RedisServer,
  startCluster,
  startRedis,
  uniquePrefix,
  untilAnswers,
} from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, createLock, type DistributedLock, TimeoutError } from '../src/index.ts';

// Faults on servers of their own: a single server, and a 3-master Cluster whose master owning the
// lock's slot is the one that fails.
interface Faulty {
  url: string;
  /** The server that owns `key`. */
  serverOf(redis: RedisConnection, key: string): Promise<RedisServer>;
  stop(): Promise<void>;
}

/** Whether `name` is free, or becomes free, within `ms` (polling; a failed poll counts as held). */
async function freedWithin(locks: DistributedLock, name: string, ms: number): Promise<boolean> {
  for (const until = performance.now() + ms; performance.now() < until; await sleep(50))
    if (!(await locks.isLocked(name).catch(() => true))) return true;
  return false;
}

const setups: Array<{ name: string; start: () => Promise<Faulty> }> = [
  {
    name: 'standalone',
    async start() {
      const server = await startRedis({ forceBinary: true, args: ['--appendonly', 'yes'] });
      return { url: server.url, serverOf: async () => server, stop: () => server.stop() };
    },
  },
  {
    name: 'cluster',
    async start() {
      const cluster = await startCluster({ args: ['--appendonly', 'yes'] });
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

describe.each(setups)('lock outages on $name', ({ start }) => {
  let faulty: Faulty;
  let redis: RedisConnection;
  const prefix = uniquePrefix('lock-outage');
  beforeAll(async () => {
    faulty = await start();
    redis = await connect({ url: faulty.url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 100 } });
  });
  afterAll(async () => {
    await redis?.close();
    await faulty?.stop();
  });

  it('leaves no grant behind when acquire failed because Redis was killed', async () => {
    const locks = createLock({ redis, prefix });
    const server = await faulty.serverOf(redis, `${prefix}{killed}`);
    await server.kill();
    const error = await locks.acquire('killed', { acquireTimeoutMs: 1_000 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConnectionError);
    await server.restart();
    await untilAnswers({ ping: () => locks.isLocked('killed').then(() => 1) }, 15_000);
    await sleep(1_500);
    expect(await locks.isLocked('killed')).toBe(false);
    const started = performance.now();
    const next = await locks.acquire('killed', { acquireTimeoutMs: 2_000 });
    expect(performance.now() - started).toBeLessThan(500);
    await next.release();
    await locks.close();
  });

  it('takes back a grant whose outcome was unknown (Redis paused) as soon as Redis answers', async () => {
    const locks = createLock({ redis, prefix });
    const server = await faulty.serverOf(redis, `${prefix}{paused}`);
    await server.pause();
    const started = performance.now();
    const error = await locks.acquire('paused', { acquireTimeoutMs: 5_000 }).catch((err: unknown) => err);
    const elapsed = performance.now() - started;
    await sleep(1_500);
    await server.resume();
    // The attempt was written, then no reply within the command timeout: it may have applied.
    expect(error).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeLessThan(1_000 + 300);
    // The attempt ran once Redis resumed; the give-back queued behind it on the same socket.
    expect(await freedWithin(locks, 'paused', 2_000)).toBe(true);
    await locks.close();
  });

  it('ends acquire at its timeout measured from the call, even while Redis is paused', async () => {
    const holder = createLock({ redis, prefix });
    const held = await holder.acquire('bounded');
    const server = await faulty.serverOf(redis, `${prefix}{bounded}`);
    const locks = createLock({ redis, prefix });
    await server.pause();
    const started = performance.now();
    const error = await locks.acquire('bounded', { acquireTimeoutMs: 500 }).catch((err: unknown) => err);
    const elapsed = performance.now() - started;
    await sleep(300);
    await server.resume();
    expect(error).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(499);
    // One sweep tick (32 ms for a 500 ms bound) plus event-loop slack.
    expect(elapsed).toBeLessThan(500 + 150);
    await sleep(500);
    await held.release();
    await Promise.all([holder.close(), locks.close()]);
  });

  it('frees a lock whose release failed while Redis was down as soon as Redis is back, not after its TTL', async () => {
    const locks = createLock({ redis, prefix, ttlMs: 30_000 });
    // A Cluster whose master an earlier test paused can still be marked down for a moment.
    await untilAnswers({ ping: () => locks.isLocked('release-down').then(() => 1) }, 15_000);
    const held = await locks.acquire('release-down');
    const server = await faulty.serverOf(redis, `${prefix}{release-down}`);
    await server.kill();
    const error = await held.release().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConnectionError);
    await server.restart(); // appendonly: the lock survived the restart
    await untilAnswers({ ping: () => locks.isLocked('release-down').then(() => 1) }, 15_000);
    expect(await freedWithin(locks, 'release-down', 5_000)).toBe(true);
    await locks.close();
  });
});
