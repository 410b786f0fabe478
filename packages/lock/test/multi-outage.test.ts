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

// Faults on servers of their own, as in outages.test.ts: a single server, and a 3-master Cluster
// whose master owning one group of names fails while the others answer.
interface Faulty {
  url: string;
  serverOf(redis: RedisConnection, key: string): Promise<RedisServer>;
  stop(): Promise<void>;
}

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

async function freedWithin(locks: DistributedLock, names: string[], ms: number): Promise<boolean> {
  for (const until = performance.now() + ms; performance.now() < until; await sleep(50)) {
    const locked = await Promise.all(names.map((n) => locks.isLocked(n).catch(() => true)));
    if (!locked.includes(true)) return true;
  }
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

describe.each(setups)('acquireAll when Redis fails ($name)', ({ name: topology, start }) => {
  let faulty: Faulty;
  let redis: RedisConnection;
  const prefix = uniquePrefix('lock-multi-out');
  const keyOf = (name: string) => `${prefix}{${name}}`;
  /** Names whose lock keys live at both ends of the slot range (different masters on a Cluster). */
  const [low, high] = (() => {
    const candidates = Array.from({ length: 200 }, (_, i) => `o-${i}`);
    const sorted = candidates.sort((a, b) => slotOf(keyOf(a)) - slotOf(keyOf(b)));
    return [sorted[0] as string, sorted.at(-1) as string];
  })();

  beforeAll(async () => {
    faulty = await start();
    redis = await connect({ url: faulty.url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 100 } });
  }, 60_000);
  afterAll(async () => {
    expect(unhandled).toEqual([]);
    await redis?.close();
    await faulty?.stop();
  });

  it('reports a paused server within the bound, releases what it took, and takes back what the unanswered script granted', async () => {
    const locks = createLock({ redis, prefix });
    const paused = await faulty.serverOf(redis, keyOf(high));
    await paused.pause();
    const started = performance.now();
    const error = await locks
      .acquireAll([high, low], { acquireTimeoutMs: 5_000 })
      .catch((err: unknown) => err);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeLessThan(1_000 + 400);
    if (topology === 'cluster') {
      // The low group's master answers: its grant was released at once, while the other is paused.
      expect(await freedWithin(locks, [low], 1_000)).toBe(true);
    }
    await sleep(500);
    await paused.resume();
    // The paused script ran once Redis resumed; the give-back queued behind it took its names back.
    expect(await freedWithin(locks, [low, high], 3_000)).toBe(true);
    await locks.close();
  });

  it('frees the names of a release that failed while Redis was down as soon as it is back', async () => {
    const locks = createLock({ redis, prefix, ttlMs: 30_000 });
    await untilAnswers({ ping: () => locks.isLocked(low).then(() => 1) }, 15_000);
    const held = await locks.acquireAll([low, high]);
    const server = await faulty.serverOf(redis, keyOf(high));
    await server.kill();
    const error = await held.release().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConnectionError);
    await server.restart(); // appendonly: the lock survived the restart
    await untilAnswers({ ping: () => locks.isLocked(high).then(() => 1) }, 15_000);
    expect(await freedWithin(locks, [low, high], 5_000)).toBe(true);
    await locks.close();
  });
});
