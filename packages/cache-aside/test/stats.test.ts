import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { type Cache, createCache, type JoinEvent } from '../src/index.ts';
import { counting, useCaches } from './helpers.ts';

const failing = async (): Promise<string> => {
  await sleep(20);
  throw new Error('database down');
};

/** Counts the reads a test makes, the way stats() must: one per call, one per key of a getMany. */
function readCounter() {
  const counter = {
    reads: 0,
    read<P>(pending: P, reads = 1): P {
      counter.reads += reads;
      return pending;
    },
  };
  return counter;
}

function expectEveryReadCountedOnce(cache: Cache, reads: number): void {
  const { hits, misses, joined } = cache.stats();
  expect(hits + misses + joined).toBe(reads);
}

describe.each(topologies())('cache stats on $name', ({ url }) => {
  const fixture = useCaches(url, 'ca-stats');
  const { make } = fixture;

  it('counts 10 concurrent cold reads of one key as 1 miss and 9 joined, then 5 reads as 5 hits', async () => {
    const cache = make();
    const joins: JoinEvent[] = [];
    cache.on('join', (event) => joins.push(event));
    const loader = counting('value', 50);
    const cold = await Promise.all(Array.from({ length: 10 }, () => cache.getOrLoad('cold', loader)));
    expect(cold).toEqual(Array(10).fill('value'));
    expect(loader.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 1, joined: 9, hits: 0, hitRate: 0.9 });
    expect(joins).toEqual(Array(9).fill({ key: 'cold', via: 'flight' }));

    for (let i = 0; i < 5; i++) expect(await cache.getOrLoad('cold', loader)).toBe('value');
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 1, joined: 9, hits: 5, hitRate: 14 / 15 });
  });

  it('counts calls that share a read which finds the entry as hits, not joined', async () => {
    const cache = make();
    await cache.set('warm', 'stored');
    const loader = counting('loaded');
    const got = await Promise.all(Array.from({ length: 10 }, () => cache.getOrLoad('warm', loader)));
    expect(got).toEqual(Array(10).fill('stored'));
    expect(cache.stats()).toMatchObject({ hits: 10, misses: 0, joined: 0, loads: 0, hitRate: 1 });
  });

  it('keeps hits + misses + joined equal to the reads in a mix of get, has, getMany and getOrLoad', async () => {
    const cache = make({ ttlMs: 60_000 });
    const counter = readCounter();
    const { read } = counter;
    await cache.set('a', 1);
    await cache.set('b', 2);
    expect(await read(cache.get('a'))).toBe(1);
    expect(await read(cache.get('none'))).toBeUndefined();
    expect(await read(cache.has('b'))).toBe(true);
    expect(await read(cache.has('none'))).toBe(false);
    // Three keys, one of them twice: four reads.
    expect(await read(cache.getMany(['a', 'none', 'a', 'b']), 4)).toEqual([1, undefined, 1, 2]);
    expect(await read(cache.getMany([]), 0)).toEqual([]);
    const cold = await Promise.all(
      Array.from({ length: 4 }, () => read(cache.getOrLoad('cold', counting('loaded', 30)))),
    );
    expect(cold).toEqual(Array(4).fill('loaded'));
    const thrown = await Promise.allSettled(
      Array.from({ length: 3 }, () => read(cache.getOrLoad('throws', failing))),
    );
    expect(thrown.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await read(cache.getOrLoad('a', counting(0)))).toBe(1);
    const wrapped = cache.wrap(async (id: number) => id * 10, { key: (id) => `wrapped:${id}` });
    expect(await read(wrapped(4))).toBe(40);
    expect(await read(wrapped(4))).toBe(40);

    // Hits: get a, has b, 3 of the getMany, getOrLoad a, the second wrapped call.
    // Misses: get, has, 1 of the getMany, the cold and the throwing leaders, the first wrapped call.
    // Joined: 3 cold and 2 throwing followers.
    expect(cache.stats()).toMatchObject({ hits: 7, misses: 6, joined: 5, loads: 3 });
    expect(counter.reads).toBe(18);
    expectEveryReadCountedOnce(cache, 18);
  });

  it('counts stale values served, to each caller sharing the read, while revalidating or on a loader error', async () => {
    const cache = make({ ttlMs: 100, staleMs: 10_000 });
    const other = make({ ttlMs: 100, staleIfErrorMs: 10_000 });
    await cache.getOrLoad('swr', counting('old'));
    await other.getOrLoad('sie', counting('kept'));
    await sleep(200);

    const revalidated = await Promise.all(
      Array.from({ length: 3 }, () => cache.getOrLoad('swr', counting('new', 100))),
    );
    expect(revalidated).toEqual(['old', 'old', 'old']);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 1, joined: 0, staleServed: 3 });

    const kept = await Promise.all(Array.from({ length: 3 }, () => other.getOrLoad('sie', failing)));
    expect(kept).toEqual(['kept', 'kept', 'kept']);
    expect(other.stats()).toMatchObject({ hits: 0, misses: 2, joined: 2, staleServed: 3 });
  });

  it('says why a stale value was served: revalidate for getOrLoad, allow-stale for a get that asked', async () => {
    const cache = make({ ttlMs: 100, staleMs: 10_000 });
    const reasons: string[] = [];
    cache.on('stale', (event) => reasons.push(event.reason));
    await cache.getOrLoad('k', counting('old'));
    await sleep(200);
    expect(await cache.get('k', { allowStale: true })).toBe('old');
    expect(await cache.has('k', { allowStale: true })).toBe(true);
    expect(reasons).toEqual(['allow-stale', 'allow-stale']);
    expect(await cache.getOrLoad('k', counting('new', 50))).toBe('old');
    expect(reasons).toEqual(['allow-stale', 'allow-stale', 'revalidate']);
  });

  it('counts a read that waits for another process to load as joined (via the lease)', async () => {
    const prefix = uniquePrefix('ca-stats');
    const [ours, theirs] = [make({}, prefix), make({}, prefix)];
    let loading!: () => void;
    const started = new Promise<void>((resolve) => {
      loading = resolve;
    });
    const slow = async () => {
      loading();
      await sleep(300);
      return 'theirs';
    };
    const leading = theirs.getOrLoad('shared', slow);
    await started; // the other cache holds the lease and runs its loader
    const vias: string[] = [];
    ours.on('join', ({ via }) => vias.push(via));
    const ourLoader = counting('ours');
    const got = await Promise.all(Array.from({ length: 3 }, () => ours.getOrLoad('shared', ourLoader)));
    expect(await leading).toBe('theirs');
    expect(got).toEqual(['theirs', 'theirs', 'theirs']);
    expect(ourLoader.calls).toBe(0);
    expect(ours.stats()).toMatchObject({ hits: 0, misses: 0, joined: 3, loads: 0, hitRate: 1 });
    expect(vias.sort()).toEqual(['flight', 'flight', 'lease']);
    expect(theirs.stats()).toMatchObject({ hits: 0, misses: 1, joined: 0, loads: 1 });
  });

  it('counts reads that fail open while Redis is unreachable as misses, and the calls sharing them as joined', async () => {
    const down = await connect({ url });
    await down.close();
    const cache = createCache({ redis: down, prefix: uniquePrefix('ca-stats') });
    fixture.caches.push(cache);
    const loader = counting('from the loader', 20);
    const got = await Promise.all(Array.from({ length: 10 }, () => cache.getOrLoad('k', loader)));
    expect(got).toEqual(Array(10).fill('from the loader'));
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, joined: 9, loads: 1, errors: 1 });
    // A plain read rejects instead, and counts as the miss it is.
    await expect(cache.get('k')).rejects.toThrow();
    await expect(cache.getMany(['k', 'j'])).rejects.toThrow();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 4, joined: 9 });
    expectEveryReadCountedOnce(cache, 13);
  });

  it('counts near-cache hits once each among the other reads', async () => {
    const cache = make({ nearCache: true });
    for (let i = 0; i < 500 && cache.stats().near?.live !== true; i++) await sleep(10);
    expect(cache.stats().near?.live).toBe(true);
    const counter = readCounter();
    const { read } = counter;
    await cache.set('n', 'near');
    // The first reads may race the write's invalidation; read until the near cache answers.
    for (let i = 0; i < 200 && cache.stats().nearHits === 0; i++) {
      expect(await read(cache.get('n'))).toBe('near');
      await sleep(5);
    }
    const before = cache.stats();
    expect(before.nearHits).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect(await read(cache.getOrLoad('n', counting('loaded')))).toBe('near');
    expect(await read(cache.getMany(['n', 'none']), 2)).toEqual(['near', undefined]);
    expect(await read(cache.has('n'))).toBe(true);
    const after = cache.stats();
    expect(after.nearHits - before.nearHits).toBe(7);
    expect(after.hits - before.hits).toBe(7);
    expect(after.misses - before.misses).toBe(1);
    expect(after.loads).toBe(0);
    expectEveryReadCountedOnce(cache, counter.reads);
  });
});
