import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { type Cache, createCache, type StandardSchemaLike } from '../src/index.ts';
import { counting, useCaches } from './helpers.ts';

/** A Standard Schema that accepts strings and serves them upper-cased. */
const upperString: StandardSchemaLike = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      typeof value === 'string'
        ? { value: value.toUpperCase() }
        : { issues: [{ message: 'expected a string' }] },
  },
};

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(10);
  }
  return condition();
}

describe.each(topologies())('validation of cached values on $name', ({ url }) => {
  const fixture = useCaches(url, 'ca-valid');
  const { make } = fixture;

  it('reloads a cached value that fails validate, counts it as invalid, and replaces it', async () => {
    const prefix = uniquePrefix('ca-valid');
    await make({}, prefix).set('user:1', { name: 'Ada' }); // an entry of an older shape
    const cache = make({ validate: (v) => typeof (v as { email?: unknown }).email === 'string' }, prefix);
    const loader = counting({ name: 'Ada', email: 'ada@example.com' });
    expect(await cache.getOrLoad('user:1', loader)).toEqual({ name: 'Ada', email: 'ada@example.com' });
    expect(await cache.getOrLoad('user:1', loader)).toEqual({ name: 'Ada', email: 'ada@example.com' });
    expect(loader.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ invalid: 1, misses: 1, hits: 1 });
    expect((await cache.inspect('user:1'))?.value).toEqual({ name: 'Ada', email: 'ada@example.com' });
  });

  it("serves a Standard Schema's output on a miss and on a hit, and reloads values it rejects", async () => {
    const prefix = uniquePrefix('ca-valid');
    await make({}, prefix).set('b', 42);
    const cache = make({ validate: upperString }, prefix);
    const loader = counting('ada');
    expect(await cache.getOrLoad('a', loader)).toBe('ADA');
    expect(await cache.getOrLoad('a', loader)).toBe('ADA'); // stored as loaded, checked on every read
    expect(loader.calls).toBe(1);
    expect((await cache.inspect('a'))?.value).toBe('ada');
    expect(await cache.getOrLoad('b', () => 'bob')).toBe('BOB');
    expect(cache.stats().invalid).toBe(1);
  });

  it('rejects a loaded value that fails validate for every caller of that load, and caches nothing', async () => {
    const prefix = uniquePrefix('ca-valid');
    const cache = make({ validate: upperString }, prefix);
    const loader = counting(() => 7 as unknown as string, 30);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.getOrLoad('n', loader)));
    expect(loader.calls).toBe(1);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as InvalidArgumentError;
      expect(reason).toBeInstanceOf(InvalidArgumentError);
      expect(reason.message).toContain('expected a string');
    }
    expect(await cache.inspect('n')).toBeUndefined();
    // The lease was released: another cache of the prefix loads at once.
    const started = performance.now();
    expect(await make({ validate: upperString }, prefix).getOrLoad('n', () => 'ok')).toBe('OK');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("applies a per-call validate (here async) instead of the cache's", async () => {
    const cache = make({ validate: () => true });
    await cache.set('k', 'old');
    const check = async (v: unknown) => {
      await sleep(1);
      return v !== 'old';
    };
    const loader = counting('new');
    expect(await cache.getOrLoad('k', loader, { validate: check })).toBe('new');
    expect(await cache.getOrLoad('k', loader, { validate: check })).toBe('new');
    expect(loader.calls).toBe(1);
    expect(cache.stats().invalid).toBe(1);
  });

  it("reads a value that fails the cache's validate as a miss in get, has and getMany", async () => {
    const prefix = uniquePrefix('ca-valid');
    const writer = make({}, prefix);
    await writer.setMany([
      { key: 'good', value: 'fine' },
      { key: 'bad', value: 12 },
    ]);
    const cache = make({ validate: (v) => typeof v === 'string' }, prefix);
    expect(await cache.get('bad')).toBeUndefined();
    expect(await cache.has('bad')).toBe(false);
    expect(await cache.get('good')).toBe('fine');
    expect(await cache.getMany(['good', 'bad'])).toEqual(['fine', undefined]);
    expect(cache.stats()).toMatchObject({ invalid: 3, hits: 2, misses: 3 });
  });

  it('refuses set and setMany of a value that fails validate before writing anything', async () => {
    const cache = make({ validate: (v) => typeof v === 'string' });
    await expect(cache.set('x', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      cache.setMany([
        { key: 'y', value: 'ok' },
        { key: 'z', value: 2 },
      ]),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await cache.getMany(['x', 'y', 'z'])).toEqual([undefined, undefined, undefined]);
  });

  it('refuses a validate that is neither a function nor a Standard Schema, before any Redis call', async () => {
    expect(() => createCache({ redis: fixture.redis, validate: 'yes' as never })).toThrow(
      InvalidArgumentError,
    );
    const cache = make();
    await expect(cache.getOrLoad('k', () => 1, { validate: { '~standard': {} } as never })).rejects.toThrow(
      /validate/,
    );
    expect(await cache.inspect('k')).toBeUndefined();
  });

  it('never serves from the near cache a value that now fails validate', async () => {
    const accepted = new Set(['v1', 'v2']);
    const cache: Cache = createCache({
      redis: fixture.redis,
      prefix: uniquePrefix('ca-valid'),
      nearCache: true,
      validate: (v) => accepted.has(v as string),
    });
    fixture.caches.push(cache);
    expect(await until(() => cache.stats().near?.live === true, 5_000)).toBe(true);
    await cache.getOrLoad('k', () => 'v1');
    // Read until the value is served from process memory (the first reads may race the write).
    expect(
      await until(async () => {
        const before = cache.stats().nearHits;
        await cache.getOrLoad('k', () => 'unexpected');
        return cache.stats().nearHits > before;
      }, 2_000),
    ).toBe(true);
    accepted.delete('v1');
    const nearHits = cache.stats().nearHits;
    const loader = counting('v2');
    expect(await cache.getOrLoad('k', loader)).toBe('v2');
    expect(loader.calls).toBe(1);
    expect(cache.stats().nearHits).toBe(nearHits);
    expect(cache.stats().invalid).toBe(1);
    // A per-call check is applied to near-cache copies too.
    const strict = counting('v3');
    accepted.add('v3');
    expect(await cache.getOrLoad('k', strict, { validate: (v) => v === 'v3' })).toBe('v3');
    expect(strict.calls).toBe(1);
    expect(await cache.get('k')).toBe('v3');
    // getManyOrLoad checks near-cache copies too.
    const unexpected = async (keys: string[]) => keys.map(() => 'unexpected');
    expect(
      await until(async () => {
        const before = cache.stats().nearHits;
        await cache.getManyOrLoad(['k'], unexpected);
        return cache.stats().nearHits > before;
      }, 2_000),
    ).toBe(true);
    accepted.delete('v3');
    accepted.add('v4');
    const invalidBefore = cache.stats().invalid;
    const batch = counting(['v4']);
    expect(await cache.getManyOrLoad(['k'], batch)).toEqual(['v4']);
    expect(batch.calls).toBe(1);
    expect(cache.stats().invalid).toBe(invalidBefore + 1);
  });
});
