import { setTimeout as sleep } from 'node:timers/promises';
import {
  connect,
  InvalidArgumentError,
  type RedisClient,
  type RedisCluster,
  type RedisConnection,
} from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createCache, type ManyLoader } from '../src/index.ts';
import { counting, useCaches } from './helpers.ts';

/** A batch loader that records the keys of each call and answers `value:<key>` after `delayMs`. */
function batchLoader(delayMs = 0) {
  const calls: string[][] = [];
  const loadMany = async (keys: string[]): Promise<string[]> => {
    calls.push(keys);
    if (delayMs > 0) await sleep(delayMs);
    return keys.map((k) => `value:${k}`);
  };
  /** How many times each key was loaded, over every call. */
  const loadsPerKey = () => {
    const counts = new Map<string, number>();
    for (const key of calls.flat()) counts.set(key, (counts.get(key) ?? 0) + 1);
    return counts;
  };
  return { calls, loadMany, loadsPerKey };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `k${from + i}`);

/** Calls per command name, summed over every master (the one server on standalone). */
async function commandCounts(redis: RedisConnection): Promise<Map<string, number>> {
  const raw = redis.client as unknown as Partial<RedisCluster>;
  const nodes =
    raw.masters === undefined
      ? [redis.client]
      : await Promise.all(
          (redis.client as unknown as RedisCluster).masters.map(
            (m) => (redis.client as unknown as RedisCluster).nodeClient(m) as Promise<RedisClient>,
          ),
        );
  const counts = new Map<string, number>();
  for (const node of nodes) {
    const info = String(await node.sendCommand(['INFO', 'commandstats']));
    for (const [, name, calls] of info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
      counts.set(name as string, (counts.get(name as string) ?? 0) + Number(calls));
    }
  }
  return counts;
}

describe.each(topologies())('getManyOrLoad on $name', ({ name, url }) => {
  const fixture = useCaches(url, 'ca-many');
  const { make } = fixture;

  it('returns values in the order of keys, loads only the misses in one call, then serves every key as a hit', async () => {
    const cache = make();
    await cache.set('k1', 'cached:k1');
    const { calls, loadMany } = batchLoader();
    const keys = ['k3', 'k1', 'k2', 'k3'];
    expect(await cache.getManyOrLoad(keys, loadMany)).toEqual([
      'value:k3',
      'cached:k1',
      'value:k2',
      'value:k3',
    ]);
    expect(calls).toEqual([['k3', 'k2']]);
    expect(await cache.getManyOrLoad(keys, loadMany)).toEqual([
      'value:k3',
      'cached:k1',
      'value:k2',
      'value:k3',
    ]);
    expect(calls).toHaveLength(1);
    // Every distinct key of a call counts once: 1 hit + 2 misses, then 3 hits.
    expect(cache.stats()).toMatchObject({ hits: 4, misses: 2, joined: 0, loads: 1 });
    expect(await cache.getManyOrLoad([], loadMany)).toEqual([]);
  });

  it('accepts a Map from key to value; a key the Map lacks is cached as undefined', async () => {
    const cache = make();
    const loadMany = async (keys: string[]) =>
      new Map(keys.filter((k) => k !== 'gone').map((k) => [k, k.length]));
    expect(await cache.getManyOrLoad(['ab', 'gone', 'abc'], loadMany)).toEqual([2, undefined, 3]);
    const info = await cache.inspect('gone');
    expect(info).toBeDefined();
    expect(info?.value).toBeUndefined();
  });

  it('loads each key once when two overlapping getManyOrLoad calls and getOrLoad calls run together', async () => {
    const cache = make();
    const batch = batchLoader(50);
    const single = counting('single', 50);
    const results = await Promise.all([
      cache.getOrLoad('k0', single), // started first: the batches join it
      cache.getManyOrLoad(range(0, 10), batch.loadMany),
      cache.getManyOrLoad(range(5, 15), batch.loadMany),
      cache.getOrLoad('k7', single),
      cache.getOrLoad('k12', single),
    ]);
    expect(single.calls).toBe(1);
    // The two batches read in parallel: either may call its loader first.
    expect([...batch.calls].sort((x, y) => x.length - y.length)).toEqual([range(10, 15), range(1, 10)]);
    expect([...batch.loadsPerKey().values()].every((n) => n === 1)).toBe(true);
    expect(results[1]).toEqual(['single', ...range(1, 10).map((k) => `value:${k}`)]);
    expect(results[3]).toBe('value:k7');
    expect(results[4]).toBe('value:k12');
    // 15 keys loaded by 3 reads; 5 + 2 reads joined them.
    expect(cache.stats()).toMatchObject({ misses: 1 + 9 + 5, joined: 1 + 5 + 2, hits: 0 });
  });

  it('loads each key once across two processes (caches on their own connections) asking for the same keys', async () => {
    const prefix = uniquePrefix('ca-many');
    const other = await connect({ url, commandTimeoutMs: 5_000 });
    const a = make({}, prefix);
    const b = createCache({ redis: other, prefix });
    try {
      const batchA = batchLoader(150);
      const batchB = batchLoader(150);
      const keys = range(0, 20);
      const [ra, rb] = await Promise.all([
        a.getManyOrLoad(keys, batchA.loadMany),
        sleep(20).then(() => b.getManyOrLoad(keys, batchB.loadMany)),
      ]);
      const expected = keys.map((k) => `value:${k}`);
      expect(ra).toEqual(expected);
      expect(rb).toEqual(expected);
      const loaded = [...batchA.calls.flat(), ...batchB.calls.flat()].sort();
      expect(loaded).toEqual([...keys].sort());
      // Whichever took a key's lease loaded it; the other one waited for its value.
      const [sa, sb] = [a.stats(), b.stats()];
      expect(sa.misses + sb.misses).toBe(20);
      expect(sa.joined + sa.hits + sb.joined + sb.hits).toBe(20);
    } finally {
      await b.close();
      await other.close();
    }
  });

  it('lets the loader set a TTL and skip caching per key', async () => {
    const cache = make({ ttlMs: 60_000 });
    const rows = new Map([['user:1', { id: 1 }]]);
    const result = await cache.getManyOrLoad(['user:1', 'user:2', 'user:3'], async (keys, ctx) => {
      ctx.setTtl('user:2', 200); // absent: ask again soon
      ctx.setTtl('user:1', 3_600_000, { staleMs: 1_000 });
      ctx.skipCache('user:3');
      return keys.map((k) => rows.get(k) ?? null);
    });
    expect(result).toEqual([{ id: 1 }, null, null]);
    const [one, two, three] = await Promise.all(['user:1', 'user:2', 'user:3'].map((k) => cache.inspect(k)));
    expect((one?.freshUntil.getTime() ?? 0) - (one?.createdAt.getTime() ?? 0)).toBe(3_600_000);
    expect((two?.freshUntil.getTime() ?? 0) - (two?.createdAt.getTime() ?? 0)).toBe(200);
    expect(three).toBeUndefined();
  });

  it('reloads cached values that fail validate, and rejects a loaded value that fails while caching the valid ones', async () => {
    const prefix = uniquePrefix('ca-many');
    await make({}, prefix).setMany([
      { key: 'a', value: 'A' },
      { key: 'b', value: 2 },
    ]);
    const cache = make({ validate: (v) => typeof v === 'string' }, prefix);
    const { calls, loadMany } = batchLoader();
    expect(await cache.getManyOrLoad(['a', 'b'], loadMany)).toEqual(['A', 'value:b']);
    expect(calls).toEqual([['b']]);
    expect(cache.stats().invalid).toBe(1);
    const mixed = cache.getManyOrLoad(['c', 'd'], async (keys) =>
      keys.map((k) => (k === 'd' ? 4 : `value:${k}`)),
    );
    await expect(mixed).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await cache.inspect('c'))?.value).toBe('value:c');
    expect(await cache.inspect('d')).toBeUndefined();
  });

  it('refuses bad input with InvalidArgumentError before writing anything', async () => {
    const cache = make();
    const { loadMany } = batchLoader();
    await expect(cache.getManyOrLoad('k1' as never, loadMany)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.getManyOrLoad(['k1', ''], loadMany)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.getManyOrLoad(['k1'], 'no' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.getManyOrLoad(['k1'], loadMany, { ttlMs: -1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const short = cache.getManyOrLoad(['k2', 'k3'], async () => ['only one']);
    await expect(short).rejects.toThrow(/loadMany: expected an array of 2 values/);
    const stranger = cache.getManyOrLoad(['k4'], async (keys, ctx) => {
      ctx.setTtl('k5', 1_000);
      return keys;
    });
    await expect(stranger).rejects.toThrow(/"k5" is not one of the keys/);
    const badTtl = cache.getManyOrLoad(['k6'], async (keys, ctx) => {
      ctx.setTtl('k6', 0);
      return keys;
    });
    await expect(badTtl).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await cache.getMany(range(1, 7))).toEqual(Array(6).fill(undefined));
    // The leases were released: the keys load again at once.
    expect(await cache.getManyOrLoad(['k2', 'k6'], loadMany)).toEqual(['value:k2', 'value:k6']);
  });

  it('serves stale values while one background call refreshes them', async () => {
    const cache = make({ ttlMs: 100, staleMs: 10_000 });
    const first = batchLoader();
    await cache.getManyOrLoad(['s1', 's2'], first.loadMany);
    await sleep(150);
    const refresh = batchLoader();
    const fresh: ManyLoader<string> = async (keys) => (await refresh.loadMany(keys)).map((v) => `${v}:new`);
    expect(await cache.getManyOrLoad(['s1', 's2'], fresh)).toEqual(['value:s1', 'value:s2']);
    expect(cache.stats().staleServed).toBe(2);
    const deadline = Date.now() + 3_000;
    let now = await cache.getMany(['s1', 's2']);
    while (now.includes(undefined) && Date.now() < deadline) {
      await sleep(20);
      now = await cache.getMany(['s1', 's2']);
    }
    expect(now).toEqual(['value:s1:new', 'value:s2:new']);
    expect(refresh.calls.flat().sort()).toEqual(['s1', 's2']); // one refresh per key
  });

  it('fails open: with the connection closed the loader answers every key and nothing is written', async () => {
    const closed = await connect({ url });
    await closed.close();
    const cache = createCache({ redis: closed, prefix: uniquePrefix('ca-many') });
    const { calls, loadMany } = batchLoader();
    expect(await cache.getManyOrLoad(['x', 'y'], loadMany)).toEqual(['value:x', 'value:y']);
    expect(calls).toEqual([['x', 'y']]);
    expect(cache.stats()).toMatchObject({ misses: 2, errors: 1 });
    await cache.close();
  });

  it('sends 1 MGET per slot for 100 hits, and 1 MGET + 2 scripts per slot for 50 misses', async () => {
    const cache = make();
    const keys = Array.from({ length: 100 }, (_, i) => `item:${i}`);
    const { loadMany } = batchLoader();
    await cache.getManyOrLoad(['warm:1'], loadMany); // loads the scripts
    await cache.getManyOrLoad(keys.slice(0, 50), loadMany);
    const slotsOf = async (list: string[]) =>
      name === 'standalone'
        ? 1
        : new Set(
            await Promise.all(
              list.map((k) => fixture.redis.send(['CLUSTER', 'KEYSLOT', `x{${k}}`], { key: 'x' })),
            ),
          ).size;

    let before = await commandCounts(fixture.redis);
    await cache.getManyOrLoad(keys.slice(0, 50), loadMany); // all hits
    let after = await commandCounts(fixture.redis);
    const delta = (cmd: string) => (after.get(cmd) ?? 0) - (before.get(cmd) ?? 0);
    const hitSlots = await slotsOf(keys.slice(0, 50));
    expect(delta('mget')).toBe(hitSlots);
    expect(delta('evalsha') + delta('eval')).toBe(0);
    const hitsOnly = { mget: delta('mget'), scripts: delta('evalsha') };

    before = await commandCounts(fixture.redis);
    await cache.getManyOrLoad(keys, loadMany); // 50 hits, 50 misses
    after = await commandCounts(fixture.redis);
    const missSlots = await slotsOf(keys.slice(50));
    expect(delta('mget')).toBe(await slotsOf(keys));
    expect(delta('evalsha')).toBe(2 * missSlots); // take the leases, then commit the values
    expect(delta('eval')).toBe(0);
    console.log(
      `getManyOrLoad on ${name}: 50 hits -> ${hitsOnly.mget} MGET, ${hitsOnly.scripts} scripts; ` +
        `100 keys, 50 misses -> ${delta('mget')} MGET + ${delta('evalsha')} EVALSHA ` +
        `(${missSlots} slots among the misses), 3 round trips in sequence`,
    );
  });
});
