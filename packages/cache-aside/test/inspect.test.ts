import { setTimeout as sleep } from 'node:timers/promises';
import { connect, InvalidArgumentError, slotOf } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { type CacheInspector, createCacheInspector } from '../src/index.ts';
import { useCaches } from './helpers.ts';

/** Every page of a paged call, until its cursor runs out. */
async function allPages<P extends { cursor: string | undefined }>(
  page: (cursor: string | undefined) => Promise<P>,
): Promise<P[]> {
  const pages: P[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    pages.push(next);
    cursor = next.cursor;
  } while (cursor !== undefined && pages.length < 1000);
  return pages;
}

const listAll = async (inspector: CacheInspector, match?: string, count = 100) =>
  (
    await allPages((cursor) =>
      inspector.listKeys({ count, ...(cursor === undefined ? {} : { cursor }), ...(match ? { match } : {}) }),
    )
  )
    .flatMap((p) => p.items)
    .sort();

describe.each(topologies())('cache inspector on $name', ({ name, url }) => {
  const fixture = useCaches(url, 'ca-inspect');
  const { make } = fixture;
  /** A cache, an inspector on its prefix, and a cache under a prefix that starts with it. */
  const setup = () => {
    const prefix = uniquePrefix('ca-inspect');
    const cache = make({ ttlMs: 60_000, staleMs: 5_000 }, prefix);
    const nested = make({}, `${prefix}v:`);
    return { prefix, cache, nested, inspector: createCacheInspector({ redis: fixture.redis, prefix }) };
  };

  it('counts entries, tag versions and memory from Redis alone, and only under its prefix', async () => {
    const { cache, nested, inspector } = setup();
    for (let i = 0; i < 40; i++) {
      const tags = i < 10 ? ['t:a'] : i < 15 ? ['t:a', 't:b'] : [];
      await cache.set(`item:${i}`, { i, text: 'x'.repeat(100) }, { tags });
    }
    await nested.set('item:0', 'not ours', { tags: ['t:c'] });
    const stats = await inspector.stats({ sample: 1000 });
    expect(stats).toMatchObject({ entries: 40, tagVersions: 2, loadsInFlight: 0, complete: true });
    expect(stats.sampledEntries).toBe(40);
    expect(stats.tags).toEqual([
      { tag: 't:a', sampledEntries: 15 },
      { tag: 't:b', sampledEntries: 5 },
    ]);
    expect(stats.meanEntryBytes).toBeGreaterThan(100);
    expect(stats.approxMemoryBytes).toBe(40 * stats.meanEntryBytes);

    const bounded = await inspector.stats({ maxKeys: 5, sample: 3 });
    expect(bounded.complete).toBe(false);
    expect(bounded.scannedKeys).toBe(5);
    expect(bounded.entries).toBeLessThanOrEqual(5);
    expect(bounded.sampledEntries).toBeLessThanOrEqual(3);
  });

  it('sees a load in flight as a lease', async () => {
    const { cache, inspector } = setup();
    const loading = cache.getOrLoad('slow', async () => {
      await sleep(300);
      return 1;
    });
    await sleep(50);
    expect((await inspector.stats()).loadsInFlight).toBe(1);
    await loading;
    expect(await inspector.stats()).toMatchObject({ entries: 1, loadsInFlight: 0 });
  });

  it('lists keys a page at a time across every master, with a glob over cache keys', async () => {
    const { cache, nested, inspector } = setup();
    const users = Array.from({ length: 30 }, (_, i) => `user:${i}`);
    for (const key of users) await cache.set(key, 1);
    for (const key of ['order:1', 'odd*key{1}', 'odd-key{1}']) await cache.set(key, 1);
    await nested.set('user:99', 1);

    const pages = await allPages((cursor) => inspector.listKeys({ count: 7, ...(cursor ? { cursor } : {}) }));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.items.length <= 7)).toBe(true);
    expect(pages.flatMap((p) => p.items).sort()).toEqual(
      [...users, 'order:1', 'odd*key{1}', 'odd-key{1}'].sort(),
    );
    expect(await listAll(inspector, 'user:*', 7)).toEqual([...users].sort());
    // User glob characters work; escaped ones and braces are literal.
    expect(await listAll(inspector, 'odd\\*key{1}')).toEqual(['odd*key{1}']);
    expect(await listAll(inspector, 'odd?key{1}')).toEqual(['odd*key{1}', 'odd-key{1}']);
    if (name === 'cluster') {
      const thirds = new Set(users.map((k) => Math.floor(slotOf(`x{${k}}`) / 5462)));
      expect(thirds.size).toBe(3);
    }
  });

  it('describes one entry (times, tags, state) and returns its value only when asked', async () => {
    const { cache, inspector } = setup();
    const at = new Date('2026-01-02T03:04:05Z');
    const before = Date.now();
    await cache.set('order:7', { at, total: 12n }, { tags: ['orders'], metadata: { source: 'db' } });
    const entry = await inspector.get('order:7');
    expect(entry).toMatchObject({
      key: 'order:7',
      state: 'fresh',
      tags: [{ tag: 'orders', current: true }],
      codec: 'lj1',
      metadata: { source: 'db' },
    });
    expect(entry).not.toHaveProperty('value');
    expect(entry?.createdAt).toBeGreaterThanOrEqual(before);
    expect(entry?.freshUntil).toBe((entry?.createdAt ?? 0) + 60_000);
    expect(entry?.staleUntil).toBe((entry?.freshUntil ?? 0) + 5_000);
    expect(entry?.ttlMs).toBeGreaterThan(60_000);
    expect(entry?.bytes).toBeGreaterThan(20);
    expect((await inspector.get('order:7', { value: true }))?.value).toEqual({ at, total: 12n });
    expect(await inspector.get('missing')).toBeUndefined();

    const big = 'y'.repeat(10_000);
    await cache.set('big', big, { metadata: { note: 'z'.repeat(5_000) } });
    expect((await inspector.get('big', { value: true }))?.value).toBe(big);
    expect((await inspector.get('big'))?.bytes).toBeGreaterThan(15_000);
  });

  it('invalidateTag makes tagged entries misses, says whether the tag existed, and stays in its prefix', async () => {
    const { cache, prefix, inspector } = setup();
    const other = make({}, `${prefix}other:`);
    await cache.set('a', 1, { tags: ['shared'] });
    await cache.set('b', 2);
    await other.set('a', 1, { tags: ['shared'] });
    expect(await inspector.invalidateTag('shared')).toBe(true);
    expect(await inspector.invalidateTag('shared')).toBe(false);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBe(2);
    expect(await other.get('a')).toBe(1);
    expect((await inspector.get('a'))?.state).toBe('invalidated');
  });

  it('deleteByPattern deletes page by page under its prefix only, with glob characters as SCAN reads them', async () => {
    const { cache, nested, inspector } = setup();
    for (let i = 0; i < 25; i++) await cache.set(`user:${i}`, i);
    for (const key of ['order:1', 'a[1]', 'a1', 'x{y}']) await cache.set(key, 1);
    await nested.set('user:1', 'nested');

    const pages = await allPages((cursor) =>
      inspector.deleteByPattern('user:*', { count: 5, ...(cursor ? { cursor } : {}) }),
    );
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.reduce((sum, p) => sum + p.deleted, 0)).toBe(25);
    expect(pages.every((p) => p.matched <= 5)).toBe(true);
    expect(await cache.get('user:3')).toBeUndefined();
    expect(await cache.get('order:1')).toBe(1);
    expect(await nested.get('user:1')).toBe('nested');

    const one = async (pattern: string) =>
      (await allPages((cursor) => inspector.deleteByPattern(pattern, cursor ? { cursor } : {}))).reduce(
        (sum, p) => sum + p.deleted,
        0,
      );
    expect(await one('a\\[1]')).toBe(1); // escaped: only the key 'a[1]'
    expect(await cache.get('a1')).toBe(1);
    expect(await one('x{y}')).toBe(1); // braces are literal
    expect(await listAll(inspector)).toEqual(['a1', 'order:1']);
  });

  it('reads its prefix literally: glob characters in a prefix match nothing else', async () => {
    const base = uniquePrefix('ca-inspect');
    const cache = make({}, `${base}a:`);
    await cache.set('k', 1, { tags: ['t'] });
    const globby = createCacheInspector({ redis: fixture.redis, prefix: `${base}?:` });
    expect(await listAll(globby)).toEqual([]);
    expect((await globby.stats()).entries).toBe(0);
    expect((await allPages((c) => globby.deleteByPattern('*', c ? { cursor: c } : {})))[0]?.deleted).toBe(0);
    expect(await globby.invalidateTag('t')).toBe(false);
    expect(await cache.get('k')).toBe(1);
  });

  it('rejects bad input with InvalidArgumentError before sending anything', async () => {
    const closed = await connect({ url });
    const offline = createCacheInspector({ redis: closed, prefix: uniquePrefix('ca-inspect') });
    await closed.close();
    const bad: Array<() => Promise<unknown>> = [
      () => offline.listKeys({ count: 0 }),
      () => offline.listKeys({ count: 5000 }),
      () => offline.listKeys({ cursor: 'garbage' }),
      () => offline.listKeys({ match: '' }),
      () => offline.get(''),
      () => offline.get('k', { value: 'yes' as never }),
      () => offline.invalidateTag(''),
      () => offline.deleteByPattern(''),
      () => offline.deleteByPattern('*', { count: -1 }),
      () => offline.deleteByPattern(7 as never),
      () => offline.stats({ maxKeys: 0 }),
      () => offline.stats(null as never),
    ];
    for (const call of bad) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(offline.deleteByPattern('*')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => createCacheInspector({ redis: closed, prefix: 'a}b' })).toThrow(InvalidArgumentError);
  });
});
