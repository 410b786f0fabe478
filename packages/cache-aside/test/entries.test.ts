import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { escapeGlob, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type Cache, cached, createCache } from '../src/index.ts';
import type { makeUsers } from './fixtures/decorated.ts';
import { counting, useCaches } from './helpers.ts';

async function keysUnder(redis: RedisConnection, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of redis.scan(`${escapeGlob(prefix)}*`)) keys.push(key);
  return keys.sort();
}

/** Compiles fixtures/decorated.ts with TypeScript (standard decorators) and builds its Users. */
async function loadDecoratedUsers(cache: Cache): Promise<ReturnType<typeof makeUsers>> {
  const source = readFileSync(new URL('./fixtures/decorated.ts', import.meta.url), 'utf8').replace(
    /^import .*$/gm,
    '',
  );
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  const dir = mkdtempSync(join(tmpdir(), 'cache-aside-decorator-'));
  try {
    const file = join(dir, 'decorated.mjs');
    writeFileSync(file, outputText);
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as {
      makeUsers: typeof makeUsers;
    };
    return mod.makeUsers(cache, cached);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(topologies())('cache-aside entries on $name', ({ url }) => {
  const fixture = useCaches(url, 'ca');
  const { make } = fixture;

  it('deletes by glob on every master and leaves other keys alone', async () => {
    const cache = make();
    await cache.setMany([
      ...Array.from({ length: 40 }, (_, i) => ({ key: `user:${i}`, value: i })),
      { key: 'user*literal', value: 'star' },
      { key: 'order:1', value: 'o' },
      { key: 'users', value: 'list' },
    ]);
    expect(await cache.deletePattern('user:*')).toBe(40);
    expect(await cache.getMany(['user:0', 'user:39', 'user*literal', 'order:1', 'users'])).toEqual([
      undefined,
      undefined,
      'star',
      'o',
      'list',
    ]);
  });

  it('stores metadata and reports it with the created time and remaining TTL', async () => {
    const cache = make();
    const before = Date.now();
    await cache.set(
      'meta',
      { n: 1 },
      { ttlMs: 30_000, staleMs: 10_000, metadata: { source: 'db', at: new Date(1) }, tags: ['t'] },
    );
    const info = await cache.inspect<{ n: number }>('meta');
    expect(info?.value).toEqual({ n: 1 });
    expect(info?.metadata).toEqual({ source: 'db', at: new Date(1) });
    expect(info?.createdAt.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(info?.freshUntil.getTime()).toBe((info?.createdAt.getTime() ?? 0) + 30_000);
    expect(info?.remainingTtlMs).toBeGreaterThan(30_000);
    expect(info?.remainingTtlMs).toBeLessThanOrEqual(40_000);
    expect(info?.state).toBe('fresh');
    expect(info?.tags).toEqual(['t']);
    expect(await cache.inspect('nothing')).toBeUndefined();
  });

  it('gets, sets, checks and deletes single and many entries', async () => {
    const cache = make();
    await cache.set('a', 1);
    expect(await cache.get('a')).toBe(1);
    expect(await cache.has('a')).toBe(true);
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    expect(await cache.has('a')).toBe(false);

    const keys = Array.from({ length: 50 }, (_, i) => `many:${i}`);
    await cache.setMany(keys.map((key, i) => ({ key, value: { i, big: BigInt(i) } })));
    const values = await cache.getMany<{ i: number; big: bigint }>([...keys, 'absent']);
    expect(values.slice(0, 50).map((v) => v?.big)).toEqual(keys.map((_, i) => BigInt(i)));
    expect(values[50]).toBeUndefined();
    expect(await cache.deleteMany(keys.slice(0, 10))).toBe(10);
    expect((await cache.getMany(keys)).filter((v) => v !== undefined)).toHaveLength(40);
  });

  it('stores a Buffer byte for byte and returns a Buffer', async () => {
    const cache = make();
    const bytes = Buffer.from([0, 0xff, 0x0a, 0xc3, 0x28]); // not valid UTF-8
    await cache.set('blob', bytes);
    const back = await cache.get<Buffer>('blob');
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back).toEqual(bytes);
    expect((await cache.inspect('blob'))?.bytes).toBeLessThan(bytes.length + 60);
  });

  it('uses a pluggable binary serializer, and reads entries of another serializer as misses', async () => {
    const prefix = uniquePrefix('ca');
    const binary = {
      name: 'reverse-bytes',
      serialize: (value: unknown) => Buffer.from(JSON.stringify(value)).reverse(),
      deserialize: (payload: string | Buffer) => JSON.parse(Buffer.from(payload).reverse().toString()),
    };
    const custom = createCache({ redis: fixture.redis, prefix, serializer: binary });
    const plain = createCache({ redis: fixture.redis, prefix });
    fixture.caches.push(custom, plain);
    await custom.set('k', { n: [1, 2] });
    expect(await custom.get('k')).toEqual({ n: [1, 2] });
    expect(await custom.getMany(['k'])).toEqual([{ n: [1, 2] }]);
    expect(await plain.get('k')).toBeUndefined();
    expect(plain.stats().corrupt).toBe(1);
  });

  it('counts a corrupt entry as a miss and replaces it', async () => {
    const prefix = uniquePrefix('ca');
    const cache = createCache({ redis: fixture.redis, prefix });
    fixture.caches.push(cache);
    const redisKey = `${prefix}v:{broken}`;
    await fixture.redis.send(['SET', redisKey, 'not an entry'], { key: redisKey });
    expect(await cache.getOrLoad('broken', counting('fixed'))).toBe('fixed');
    expect(cache.stats().corrupt).toBe(1);
    expect(await cache.get('broken')).toBe('fixed');
  });

  it('refuses bad input with typed errors and writes nothing', async () => {
    const prefix = uniquePrefix('ca');
    const cache = createCache({ redis: fixture.redis, prefix, maxValueBytes: 1_000 });
    fixture.caches.push(cache);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const attempts: Array<() => Promise<unknown>> = [
      () => cache.getOrLoad('', () => 1),
      () => cache.getOrLoad('k'.repeat(1025), () => 1),
      () => cache.getOrLoad('k', () => 1, { ttlMs: Number.NaN }),
      () => cache.getOrLoad('k', () => 1, { ttlMs: -5 }),
      () => cache.getOrLoad('k', () => 1, { staleMs: -1 }),
      () => cache.getOrLoad('k', () => 1, { jitter: 1.5 }),
      () => cache.getOrLoad('k', () => 1, { tags: [''] }),
      () => cache.getOrLoad('fn', () => () => 'a function'),
      () => cache.getOrLoad('cyclic', () => cyclic),
      () => cache.getOrLoad('huge', () => 'x'.repeat(5_000)),
      () => cache.set('k', Symbol('s')),
      () => cache.set('k', 1, { metadata: { f() {} } }),
      () =>
        cache.setMany([
          { key: 'ok', value: 1 },
          { key: 'bad', value: cyclic },
        ]),
      () => cache.getMany(['ok', '']),
      () => cache.deletePattern(''),
    ];
    for (const attempt of attempts) {
      await expect(attempt()).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(() => createCache({ redis: fixture.redis, ttlMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => createCache({ redis: fixture.redis, prefix: 'a{b}' })).toThrow(InvalidArgumentError);
    expect(await keysUnder(fixture.redis, prefix)).toEqual([]);
  });

  it('wraps a function and a decorated method with the same arguments and one load per key', async () => {
    const cache = make();
    let calls = 0;
    const add = cache.wrap(
      async (a: number, b: number) => {
        calls++;
        return a + b;
      },
      { key: (a, b) => `add:${a}:${b}`, ttlMs: 10_000 },
    );
    expect(await add(1, 2)).toBe(3);
    expect(await add(1, 2)).toBe(3);
    expect(await add(2, 2)).toBe(4);
    expect(calls).toBe(2);

    const users = await loadDecoratedUsers(cache);
    expect(await users.find(7)).toEqual({ id: 7, name: 'user 7' });
    expect(await users.find(7)).toEqual({ id: 7, name: 'user 7' });
    expect(users.loads).toBe(1);
    await cache.invalidateTag('user:7');
    await users.find(7);
    expect(users.loads).toBe(2);
  });

  it('warms only the missing entries', async () => {
    const cache = make();
    await cache.set('warm:1', 'present');
    const loader = counting('loaded');
    const result = await cache.warm([1, 2, 3].map((i) => ({ key: `warm:${i}`, loader })));
    expect(result.loaded).toBe(2);
    expect(await cache.getMany(['warm:1', 'warm:2', 'warm:3'])).toEqual(['present', 'loaded', 'loaded']);
  });

  it('emits hit, miss and load events matching the stats', async () => {
    const cache = make();
    const seen: string[] = [];
    cache.on('miss', ({ key }) => seen.push(`miss ${key}`));
    cache.on('load', ({ key }) => seen.push(`load ${key}`));
    cache.on('hit', ({ key, tier }) => seen.push(`hit ${key} ${tier}`));
    await cache.getOrLoad('ev', counting(1));
    await cache.getOrLoad('ev', counting(1));
    expect(seen).toEqual(['miss ev', 'load ev', 'hit ev redis']);
  });
});
