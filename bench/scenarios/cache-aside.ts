import KeyvRedis from '@keyv/redis';
import { createCache } from '@redis-patterns/cache-aside';
import { connect } from '@redis-patterns/connection';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { type BenchContext, defineScenario, NODE_REDIS_TIMEOUT_SETTLE_MS, type Runner } from '../scenario.ts';

const KEYS = 100;
const TTL_MS = 10 * 60_000;

/** A 1 KB JSON value, like a user profile row. */
function profile(i: number) {
  return {
    id: i,
    name: `User number ${i}`,
    email: `user${i}@example.com`,
    roles: ['reader', 'writer'],
    createdAt: '2024-01-01T00:00:00.000Z',
    bio: 'x'.repeat(1024 - 150),
  };
}
const loader = (i: number) => async () => profile(i);
const keyOf = (i: number) => `profile:${i % KEYS}`;

/** Connects, loads every key once, and measures hits only. */
async function warmed(
  get: (key: string, load: () => Promise<unknown>) => Promise<unknown>,
  close: () => Promise<unknown>,
): Promise<Runner> {
  for (let i = 0; i < KEYS; i++) await get(keyOf(i), loader(i));
  // A second pass: caches that fill a first tier on read do it here, outside the measurement.
  for (let i = 0; i < KEYS; i++) await get(keyOf(i), loader(i));
  return { op: (i) => get(keyOf(i), loader(i)), close: async () => void (await close()) };
}

async function ours(url: string, nearCache: boolean): Promise<Runner> {
  const redis = await connect({ url });
  const cache = createCache({ redis, prefix: `bench:ours:${nearCache}:`, ttlMs: TTL_MS, nearCache });
  if (nearCache) {
    for (let i = 0; i < 500 && cache.stats().near?.live !== true; i++)
      await new Promise((r) => setTimeout(r, 10));
  }
  return warmed(
    (key, load) => cache.getOrLoad(key, load),
    async () => {
      await cache.close();
      await redis.close();
    },
  );
}

/**
 * Not a cache: a bare GET of the same 1 KB JSON and a JSON.parse, on our connection. No cache can hit
 * faster from Redis on this machine, so it shows how much of the gap to any target is left to close.
 */
async function ceiling(url: string): Promise<Runner> {
  const redis = await connect({ url });
  for (let i = 0; i < KEYS; i++) {
    const key = `bench:ceiling:${keyOf(i)}`;
    await redis.send(['SET', key, JSON.stringify(profile(i))], { key });
  }
  return {
    async op(i) {
      const key = `bench:ceiling:${keyOf(i)}`;
      return JSON.parse((await redis.send<string>(['GET', key], { key })) as string);
    },
    close: () => redis.close(),
  };
}

async function cacheManager(url: string, memoryFirst: boolean): Promise<Runner> {
  const redisStore = new Keyv({ store: new KeyvRedis(url), namespace: `bench-cm-${memoryFirst}` });
  const cache = createCacheManager({
    stores: memoryFirst ? [new Keyv(), redisStore] : [redisStore],
    ttl: TTL_MS,
  });
  return warmed(
    (key, load) => cache.wrap(key, load),
    () => cache.disconnect(),
  );
}

async function bento(url: string, memoryFirst: boolean): Promise<Runner> {
  const connection = new Redis(url);
  await connection.ping();
  const store = bentostore();
  if (memoryFirst) store.useL1Layer(memoryDriver({ maxItems: 10_000 }));
  store.useL2Layer(redisDriver({ connection }));
  const bentoCache = new BentoCache({
    default: 'main',
    stores: { main: store },
    prefix: `bench-bento-${memoryFirst}`,
  });
  return warmed(
    (key, load) => bentoCache.getOrSet({ key, factory: load, ttl: TTL_MS }),
    async () => {
      await bentoCache.disconnectAll();
      connection.disconnect();
    },
  );
}

/**
 * Cold stampede: 4 independent cache instances (as 4 processes would have: own connections, no
 * shared memory) × 25 concurrent callers on one cold key; counts loader calls.
 */
async function coldStampede(url: string): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const count = async (
    name: string,
    makeInstance: (loads: () => Promise<unknown>) => Promise<() => Promise<unknown>>,
  ) => {
    let loads = 0;
    const load = async () => {
      loads++;
      await sleep(100);
      return profile(0);
    };
    const instances = await Promise.all(Array.from({ length: 4 }, () => makeInstance(load)));
    await Promise.all(instances.flatMap((call) => Array.from({ length: 25 }, () => call())));
    return `${name} ${loads}`;
  };
  const closers: Array<() => Promise<unknown>> = [];
  const tag = Date.now();
  const lines = [
    await count('ours', async (load) => {
      const redis = await connect({ url });
      const cache = createCache({ redis, prefix: `bench:cold:${tag}:` });
      closers.push(() => redis.close());
      return () => cache.getOrLoad('cold', load);
    }),
    await count('cache-manager', async (load) => {
      const cache = createCacheManager({
        stores: [new Keyv({ store: new KeyvRedis(url), namespace: `cold-${tag}` })],
      });
      closers.push(() => cache.disconnect());
      return () => cache.wrap('cold', load);
    }),
    await count('bentocache', async (load) => {
      const connection = new Redis(url);
      const store = bentostore().useL2Layer(redisDriver({ connection }));
      const cache = new BentoCache({ default: 'main', stores: { main: store }, prefix: `cold-${tag}` });
      closers.push(async () => {
        await cache.disconnectAll();
        connection.disconnect();
      });
      return () => cache.getOrSet({ key: 'cold', factory: load });
    }),
  ];
  await Promise.all(closers.map((close) => close()));
  console.log(
    `cold stampede, loader calls for 4 instances x 25 callers on one cold key: ${lines.join(', ')}`,
  );
}

export default defineScenario({
  name: 'cache-aside',
  description:
    'Read-through hits of 1 KB JSON values over 100 keys (cmds/op = Redis commands per hit; near-cache rows should show ~0).',
  inflight: [1, 50],
  async setup({ url }: BenchContext) {
    await coldStampede(url);
  },
  rows: [
    // @keyv/redis drives node-redis with its default command timeout.
    {
      name: 'cache-manager + @keyv/redis',
      group: 'redis',
      peer: true,
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      make: ({ url }) => cacheManager(url, false),
    },
    {
      name: 'cache-manager (memory + redis)',
      group: 'near cache',
      peer: true,
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      make: ({ url }) => cacheManager(url, true),
    },
    { name: 'bentocache (redis)', group: 'redis', peer: true, make: ({ url }) => bento(url, false) },
    {
      name: 'bentocache (memory + redis)',
      group: 'near cache',
      peer: true,
      make: ({ url }) => bento(url, true),
    },
    { name: 'cache-aside (redis)', group: 'redis', peer: false, make: ({ url }) => ours(url, false) },
    {
      name: 'cache-aside (near cache)',
      group: 'near cache',
      peer: false,
      make: ({ url }) => ours(url, true),
    },
    {
      name: 'ceiling: bare GET + JSON.parse (no cache)',
      group: 'redis',
      peer: false,
      make: ({ url }) => ceiling(url),
    },
  ],
});
