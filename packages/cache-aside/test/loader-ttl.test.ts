import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import type { LoaderContext } from '../src/index.ts';
import { useCaches } from './helpers.ts';

describe.each(topologies())('TTL chosen by the loader on $name', ({ url }) => {
  const fixture = useCaches(url, 'ca-ttl');
  const { make } = fixture;

  it('caches an empty result for the short TTL the loader chose and a record for the long one', async () => {
    const cache = make({ ttlMs: 60_000 });
    const rows: Record<string, { id: string } | null> = { found: { id: 'found' }, absent: null };
    let calls = 0;
    const load = (key: string) =>
      cache.getOrLoad(key, (ctx: LoaderContext<{ id: string } | null>) => {
        calls++;
        const row = rows[key] ?? null;
        ctx.setTtl(row === null ? 150 : 3_600_000);
        return row;
      });
    expect(await load('found')).toEqual({ id: 'found' });
    expect(await load('absent')).toBeNull();
    const [found, absent] = await Promise.all([cache.inspect('found'), cache.inspect('absent')]);
    expect((found?.freshUntil.getTime() ?? 0) - (found?.createdAt.getTime() ?? 0)).toBe(3_600_000);
    expect((absent?.freshUntil.getTime() ?? 0) - (absent?.createdAt.getTime() ?? 0)).toBe(150);
    expect(absent?.remainingTtlMs).toBeLessThanOrEqual(150);
    await sleep(250);
    await load('absent');
    await load('found');
    expect(calls).toBe(3); // the empty result was loaded again, the record was a hit
  });

  it('sets the stale windows with the TTL, and a null value takes the loader TTL over negativeTtlMs', async () => {
    const cache = make({ ttlMs: 60_000, negativeTtlMs: 10_000, staleMs: 1_000 });
    await cache.getOrLoad('k', (ctx) => {
      ctx.setTtl(5_000, { staleMs: 20_000, staleIfErrorMs: 30_000 });
      return null;
    });
    const info = await cache.inspect('k');
    expect((info?.freshUntil.getTime() ?? 0) - (info?.createdAt.getTime() ?? 0)).toBe(5_000);
    // Redis keeps the key for the fresh time plus the longer window: 5 s + 30 s.
    expect(info?.remainingTtlMs).toBeGreaterThan(34_000);
    expect(info?.remainingTtlMs).toBeLessThanOrEqual(35_000);
  });

  it('returns a skipped value to all 10 concurrent callers from one load, writes nothing, and frees the lease', async () => {
    const prefix = uniquePrefix('ca-ttl');
    const cache = make({}, prefix);
    let calls = 0;
    const loader = async (ctx: LoaderContext<string>) => {
      calls++;
      await sleep(50);
      ctx.skipCache();
      return 'partial';
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.getOrLoad('skip', loader)));
    expect(results).toEqual(Array(10).fill('partial'));
    expect(calls).toBe(1);
    expect(await cache.inspect('skip')).toBeUndefined();
    // The lease was released: another cache (a "process") loads at once instead of waiting for it.
    const other = make({ leaseWaitMs: 5_000 }, prefix);
    const started = performance.now();
    await other.getOrLoad('skip', () => 'x', { ttlMs: 1_000 });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses a bad TTL with InvalidArgumentError and writes nothing, even when the loader swallows the throw', async () => {
    const cache = make({ staleIfErrorMs: 60_000 });
    for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      const err = await cache
        .getOrLoad(`bad:${String(bad)}`, (ctx) => {
          try {
            ctx.setTtl(bad);
          } catch {
            // a loader that ignores the throw still fails: the cache never writes a refused TTL
          }
          return 'v';
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).argument).toBe('setTtl(ttlMs)');
      expect(await cache.inspect(`bad:${String(bad)}`)).toBeUndefined();
    }
    const windows = await cache
      .getOrLoad('bad:window', (ctx) => {
        ctx.setTtl(1_000, { staleMs: -1 });
        return 'v';
      })
      .catch((e: unknown) => e);
    expect(windows).toBeInstanceOf(InvalidArgumentError);
    expect(await cache.inspect('bad:window')).toBeUndefined();
  });

  it('does not serve a stale value for a refused TTL: the caller sees the error', async () => {
    const cache = make({ ttlMs: 50, staleIfErrorMs: 60_000 });
    await cache.getOrLoad('k', () => 'old');
    await sleep(100);
    const err = await cache
      .getOrLoad('k', (ctx) => {
        ctx.setTtl(-1);
        return 'new';
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((await cache.inspect('k'))?.value).toBe('old');
  });

  it('keeps a tag key alive as long as an entry the loader gave a longer TTL than the call', async () => {
    const prefix = uniquePrefix('ca-ttl');
    const cache = make({ ttlMs: 1_000 }, prefix);
    await cache.getOrLoad(
      'tagged',
      (ctx) => {
        ctx.setTtl(3_600_000);
        return 'v';
      },
      { tags: ['t1'] },
    );
    const tagKey = `${prefix}t:{t1}`;
    const pttl = Number(await fixture.redis.send(['PTTL', tagKey], { key: tagKey }));
    expect(pttl).toBeGreaterThan(3_600_000);
    expect((await cache.inspect('tagged'))?.state).toBe('fresh');
    await cache.invalidateTag('t1');
    expect((await cache.inspect('tagged'))?.state).toBe('invalidated');
  });
});
