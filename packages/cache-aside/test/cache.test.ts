import { setTimeout as sleep } from 'node:timers/promises';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createCache } from '../src/index.ts';
import { counting, useCaches } from './helpers.ts';

describe.each(topologies())('cache-aside on $name', ({ url }) => {
  const fixture = useCaches(url, 'ca');
  const { make } = fixture;

  it('loads on a miss, then serves hits without calling the loader', async () => {
    const cache = make();
    const loader = counting({ name: 'Ada', born: new Date(Date.UTC(1815, 11, 10)) });
    const first = await cache.getOrLoad('user:1', loader);
    const second = await cache.getOrLoad('user:1', loader);
    expect(loader.calls).toBe(1);
    expect(second).toEqual(first);
    expect(second.born).toBeInstanceOf(Date);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, loads: 1, hitRate: 0.5, errors: 0 });
  });

  it('runs the loader once for 100 concurrent getOrLoad calls on a cold key', async () => {
    const cache = make();
    const loader = counting('value', 50);
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.getOrLoad('cold', loader)));
    expect(loader.calls).toBe(1);
    expect(new Set(results)).toEqual(new Set(['value']));
  });

  it('expires entries after ttlMs', async () => {
    const cache = make({ ttlMs: 100 });
    const loader = counting('v');
    await cache.getOrLoad('short', loader);
    await sleep(250);
    await cache.getOrLoad('short', loader);
    expect(loader.calls).toBe(2);
  });

  it('keeps jittered fresh times within [ttlMs * (1 - jitter), ttlMs]', async () => {
    const cache = make();
    const keys = Array.from({ length: 30 }, (_, i) => `jitter:${i}`);
    await Promise.all(keys.map((k) => cache.set(k, k, { ttlMs: 10_000, jitter: 0.5 })));
    const fresh = await Promise.all(
      keys.map(async (k) => {
        const info = await cache.inspect(k);
        return (info?.freshUntil.getTime() ?? 0) - (info?.createdAt.getTime() ?? 0);
      }),
    );
    for (const ms of fresh) {
      expect(ms).toBeGreaterThanOrEqual(5_000);
      expect(ms).toBeLessThanOrEqual(10_000);
    }
    expect(new Set(fresh).size).toBeGreaterThan(1); // not all the same: the jitter is applied
  });

  it('caches null results for negativeTtlMs, and not at all with cacheNull: false', async () => {
    const cache = make({ ttlMs: 60_000 });
    const none = counting(null);
    await cache.getOrLoad('missing', none, { negativeTtlMs: 100 });
    await cache.getOrLoad('missing', none, { negativeTtlMs: 100 });
    expect(none.calls).toBe(1);
    await sleep(250);
    await cache.getOrLoad('missing', none, { negativeTtlMs: 100 });
    expect(none.calls).toBe(2);

    const skipped = counting(undefined);
    await cache.getOrLoad('skip', skipped, { cacheNull: false });
    await cache.getOrLoad('skip', skipped, { cacheNull: false });
    expect(skipped.calls).toBe(2);
    expect(await cache.has('skip')).toBe(false);
  });

  it('serves the stale value while exactly one caller refreshes it in the background', async () => {
    const cache = make({ ttlMs: 100, staleMs: 10_000 });
    await cache.getOrLoad('swr', counting('old'));
    await sleep(200);
    const refresh = counting('new', 100);
    const started = performance.now();
    const served = await Promise.all(Array.from({ length: 10 }, () => cache.getOrLoad('swr', refresh)));
    // Generous bound: the point is that callers did not wait for the 100 ms loader.
    expect(performance.now() - started).toBeLessThan(95 + 200);
    expect(served).toEqual(Array(10).fill('old'));
    for (let i = 0; i < 50 && (await cache.get('swr')) !== 'new'; i++) await sleep(20);
    expect(await cache.get('swr')).toBe('new');
    expect(refresh.calls).toBe(1);
    expect(cache.stats().staleServed).toBeGreaterThanOrEqual(1);
  });

  it('serves the old value when the loader throws within staleIfErrorMs, and the error after it', async () => {
    const cache = make({ ttlMs: 100, staleIfErrorMs: 400 });
    await cache.getOrLoad('sie', counting('kept'));
    await sleep(150);
    const failing = async (): Promise<string> => {
      throw new Error('database down');
    };
    expect(await cache.getOrLoad('sie', failing)).toBe('kept');
    expect(cache.stats().staleServed).toBe(1);
    await sleep(450);
    await expect(cache.getOrLoad('sie', failing)).rejects.toThrow('database down');
  });

  it('re-checks a stale-if-error value after waiting for another loader: run out or invalidated meanwhile, it is not served', async () => {
    const prefix = uniquePrefix('ca-wait');
    const options = { redis: fixture.redis, prefix, ttlMs: 50, staleIfErrorMs: 400, leaseWaitMs: 600 };
    const [ours, theirs] = [createCache(options), createCache(options)];
    fixture.caches.push(ours, theirs);
    const failing = async (): Promise<string> => {
      throw new Error('database down');
    };
    const hanging = async () => {
      await sleep(900);
      return 'theirs';
    };
    await ours.getOrLoad('expires', async () => 'kept');
    // This one's window outlasts the wait: only the invalidation may keep it from being served.
    await ours.getOrLoad('tagged', async () => 'kept', { tags: ['wait-tag'], staleIfErrorMs: 60_000 });
    await sleep(100); // past fresh, inside both stale-if-error windows
    // Another instance holds both leases with slow loads; ours wait 600 ms for them, then load
    // themselves and fail.
    const other = [
      theirs.getOrLoad('expires', hanging),
      theirs.getOrLoad('tagged', hanging, { tags: ['wait-tag'] }),
    ];
    await sleep(20);
    const expires = ours.getOrLoad('expires', failing);
    const tagged = ours.getOrLoad('tagged', failing, { tags: ['wait-tag'] });
    await sleep(50);
    await ours.invalidateTag('wait-tag');
    await expect(expires).rejects.toThrow('database down');
    await expect(tagged).rejects.toThrow('database down');
    await Promise.all(other);
  });

  it('makes every entry of an invalidated tag a miss at once, even inside its stale window', async () => {
    const cache = make({ staleMs: 60_000, staleIfErrorMs: 60_000 });
    const keys = Array.from({ length: 20 }, (_, i) => `tagged:${i}`);
    for (const key of keys) await cache.getOrLoad(key, counting('v1'), { tags: ['team:7', `own:${key}`] });
    await cache.set('other', 'untouched', { tags: ['team:8'] });
    await cache.invalidateTag('team:7');
    const reloaded = counting('v2');
    const values = await Promise.all(keys.map((k) => cache.getOrLoad(k, reloaded, { tags: ['team:7'] })));
    expect(values).toEqual(Array(20).fill('v2'));
    expect(reloaded.calls).toBe(20);
    expect(await cache.get('other')).toBe('untouched');
    // A failing loader must not bring the invalidated value back either.
    await cache.invalidateTag(['team:7']);
    await expect(
      cache.getOrLoad('tagged:0', () => Promise.reject(new Error('down')), { tags: ['team:7'] }),
    ).rejects.toThrow('down');
    expect(await cache.get('tagged:0', { allowStale: true })).toBeUndefined();
    expect((await cache.inspect('tagged:0'))?.state).toBe('invalidated');
  });

  it('spoils an entry whose tag is invalidated while its loader runs', async () => {
    const cache = make();
    const value = await cache.getOrLoad(
      'racy',
      async () => {
        await cache.invalidateTag('racy-tag'); // the data changed while we were loading it
        return 'loaded-before-change';
      },
      { tags: ['racy-tag'] },
    );
    expect(value).toBe('loaded-before-change');
    expect(await cache.get('racy')).toBeUndefined();
  });

  it('keeps a value loaded before a delete() out of the cache', async () => {
    const cache = make();
    const loading = cache.getOrLoad('deleted-mid-load', counting('old', 150));
    await sleep(50);
    await cache.delete('deleted-mid-load');
    expect(await loading).toBe('old');
    expect(await cache.get('deleted-mid-load')).toBeUndefined();
  });

  it('never lets a caller after delete() or invalidateTag() join a read started before it', async () => {
    const cache = make();
    let version = 'old';
    let calls = 0;
    const loader = async () => {
      calls++;
      const seen = version;
      await sleep(100);
      return seen;
    };
    const before = cache.getOrLoad('joined', loader);
    await sleep(20);
    // The lease of the load in flight goes with the delete, yet only entries count.
    expect(await cache.delete('joined')).toBe(false);
    version = 'new';
    const after = cache.getOrLoad('joined', loader);
    expect(await before).toBe('old');
    expect(await after).toBe('new');
    expect(calls).toBe(2);
    expect(await cache.get('joined')).toBe('new');
    expect(await cache.delete('joined')).toBe(true);

    const tagged = cache.getOrLoad('tagged-join', loader, { tags: ['t-join'] });
    await sleep(20);
    await cache.invalidateTag('t-join');
    version = 'newer';
    expect(await cache.getOrLoad('tagged-join', loader, { tags: ['t-join'] })).toBe('newer');
    expect(await tagged).toBe('new');
  });
});
