import KeyvRedis from '@keyv/redis';
import { createCache } from '@redis-patterns/cache-aside';
import { connect } from '@redis-patterns/connection';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { defineScenario, NODE_REDIS_TIMEOUT_SETTLE_MS, type Row, type Runner } from '../scenario.ts';

// One op reads 100 keys. `hits`: 100 cached keys. `half`: 50 cached keys and 50 keys never seen before
// (unique per op), so each op loads 50 values: with one batch call where the library has one. Ops
// cycle through SETS disjoint key sets, so the ops in flight at once read different keys (no
// library can then answer one op with another op's read in flight).
const N = 100;
const SETS = 16;
const TTL_MS = 60_000;
type Mix = 'hits' | 'half';

const value = (key: string) => ({ key, name: `Item ${key}`, priceCents: 4_900, tags: ['a', 'b'] });
const cachedSet = (s: number) => Array.from({ length: N }, (_, i) => `item:${s}:${i}`);
let runs = 0;
/** The keys of op `i`; `unique` names its new keys (op indexes restart with each measured window). */
const keysOf = (mix: Mix, i: number, unique: string) => {
  const cached = cachedSet(i % SETS);
  if (mix === 'hits') return cached;
  return [...cached.slice(0, N / 2), ...Array.from({ length: N / 2 }, (_, j) => `new:${unique}:${j}`)];
};

/** Warms every cached key through `read`, then measures `read` of one op's keys. */
async function rows(mix: Mix, read: (keys: string[]) => Promise<unknown>, close: () => Promise<unknown>) {
  for (let s = 0; s < SETS; s++) await read(cachedSet(s));
  const run = runs++;
  let seq = 0;
  const runner: Runner = {
    op: (i) => read(keysOf(mix, i, `${run}:${seq++}`)),
    close: async () => void (await close()),
  };
  return runner;
}

async function oursBatch(url: string, mix: Mix): Promise<Runner> {
  const redis = await connect({ url });
  const cache = createCache({ redis, prefix: `bench:many:batch:${mix}:`, ttlMs: TTL_MS });
  const loadMany = async (keys: string[]) => keys.map(value);
  return rows(
    mix,
    (keys) => cache.getManyOrLoad(keys, loadMany),
    async () => {
      await cache.close();
      await redis.close();
    },
  );
}

async function oursSingle(url: string, mix: Mix): Promise<Runner> {
  const redis = await connect({ url });
  const cache = createCache({ redis, prefix: `bench:many:single:${mix}:`, ttlMs: TTL_MS });
  return rows(
    mix,
    (keys) => Promise.all(keys.map((k) => cache.getOrLoad(k, async () => value(k)))),
    async () => {
      await cache.close();
      await redis.close();
    },
  );
}

/** cache-manager has `mget` but no batch loader: one `mget`, then `wrap` for each miss. */
async function cacheManager(url: string, mix: Mix): Promise<Runner> {
  const cache = createCacheManager({
    stores: [new Keyv({ store: new KeyvRedis(url), namespace: `bench-many-cm-${mix}` })],
    ttl: TTL_MS,
  });
  return rows(
    mix,
    async (keys) => {
      const found = await cache.mget<ReturnType<typeof value>>(keys);
      return Promise.all(keys.map((k, i) => found[i] ?? cache.wrap(k, async () => value(k))));
    },
    () => cache.disconnect(),
  );
}

/** bentocache has no batch read or load: one `getOrSet` per key. */
async function bento(url: string, mix: Mix): Promise<Runner> {
  const connection = new Redis(url);
  await connection.ping();
  const cache = new BentoCache({
    default: 'main',
    stores: { main: bentostore().useL2Layer(redisDriver({ connection })) },
    prefix: `bench-many-bento-${mix}`,
  });
  return rows(
    mix,
    (keys) =>
      Promise.all(keys.map((k) => cache.getOrSet({ key: k, factory: async () => value(k), ttl: TTL_MS }))),
    async () => {
      await cache.disconnectAll();
      connection.disconnect();
    },
  );
}

const group = (mix: Mix): Row[] => [
  {
    name: `cache-manager mget + wrap (${mix})`,
    peer: true,
    group: mix,
    settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
    make: ({ url }) => cacheManager(url, mix),
  },
  { name: `bentocache getOrSet x ${N} (${mix})`, peer: true, group: mix, make: ({ url }) => bento(url, mix) },
  {
    name: `cache-aside getManyOrLoad (${mix})`,
    peer: false,
    group: mix,
    make: ({ url }) => oursBatch(url, mix),
  },
  {
    name: `cache-aside getOrLoad x ${N} (${mix})`,
    peer: false,
    group: mix,
    make: ({ url }) => oursSingle(url, mix),
  },
];

export default defineScenario({
  name: 'cache-aside-many',
  description: `Reads of ${N} keys per op: all cached (hits), or 50 cached and 50 loaded (half); cmds/op = Redis commands per ${N}-key op.`,
  inflight: [1, 8],
  rows: [...group('hits'), ...group('half')],
});
