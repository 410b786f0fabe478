import { type Cache, createCache } from '@redis-patterns/cache-aside';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createSessionStore, handleOf, type SessionStore } from '@redis-patterns/session';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, parsed } from './cli.ts';

describe.each(topologies())('redis-patterns session and cache on $name', ({ url }) => {
  const prefixes = { session: uniquePrefix('ops-sess'), cache: uniquePrefix('ops-cache') };
  let redis: RedisConnection;
  let store: SessionStore;
  let cache: Cache;
  const ids: string[] = [];
  const run = (prefix: string, ...args: string[]) => cli(['--url', url, '--prefix', prefix, ...args]);

  beforeAll(async () => {
    redis = await connect({ url });
    store = createSessionStore({ redis, prefix: prefixes.session });
    ids.push((await store.create({ cart: 1 }, { userId: 'ada' })).id);
    ids.push((await store.create({ cart: 2 }, { userId: 'ada' })).id);
    ids.push((await store.create({ theme: 'dark' }, { userId: 'bob' })).id);
    cache = createCache({ redis, prefix: prefixes.cache });
    // Ten minutes: under load this file's CLI runs take well over a minute before the deletes.
    for (const n of [1, 2, 3]) await cache.set(`user:${n}`, { n }, { ttlMs: 600_000, tags: ['users'] });
    await cache.set('config', { on: true }, { ttlMs: 600_000 });
  });
  afterAll(async () => {
    await store?.close();
    await cache?.close();
    await redis?.close();
  });

  it("lists sessions and a user's sessions by handle, never with their data", async () => {
    const all = parsed(await run(prefixes.session, 'session', 'list', '--json'));
    expect(all.items.map((s: { handle: string }) => s.handle).sort()).toEqual(ids.map(handleOf).sort());
    expect(all.items.every((s: object) => !('data' in s))).toBe(true);
    const ada = parsed(await run(prefixes.session, 'session', 'user', 'ada', '--json'));
    expect(ada.items.map((s: { handle: string }) => s.handle).sort()).toEqual(
      ids.slice(0, 2).map(handleOf).sort(),
    );
    // A handle is base64url: it may start with '-', so it goes after '--' (see the test below).
    const one = parsed(
      await run(prefixes.session, 'session', 'get', '--json', '--', handleOf(ids[2] as string)),
    );
    expect(one).toMatchObject({ userId: 'bob', data: { theme: '"dark"' } });
    const human = await run(prefixes.session, 'session', 'user', 'bob');
    expect(human.stdout).toMatch(/^HANDLE\s+USER\s+TTL\s+BYTES/);
    expect(human.stdout).toContain(handleOf(ids[2] as string));
  });

  it('revokes one session and every session of a user, only with --yes', async () => {
    const bob = handleOf(ids[2] as string);
    expect((await run(prefixes.session, 'session', 'revoke', '--', bob)).code).toBe(2);
    expect(await store.get(ids[2] as string)).not.toBeNull();
    expect(parsed(await run(prefixes.session, 'session', 'revoke', '--yes', '--json', '--', bob))).toEqual({
      handle: bob,
      revoked: true,
    });
    expect(await store.get(ids[2] as string)).toBeNull();
    expect((await run(prefixes.session, 'session', 'revoke', '--yes', '--', bob)).code).toBe(1);

    const ada = parsed(await run(prefixes.session, 'session', 'revoke', '--user', 'ada', '--yes', '--json'));
    expect(ada).toMatchObject({ user: 'ada', revoked: 2 });
    expect(await store.get(ids[0] as string)).toBeNull();
    // A handle and --user together, or neither, is a usage error.
    expect((await run(prefixes.session, 'session', 'revoke', '--yes')).code).toBe(2);
  });

  it("takes a handle that starts with '-' after '--', and says so when it is given before", async () => {
    const prefix = uniquePrefix('ops-dash');
    const dashed = createSessionStore({ redis, prefix });
    try {
      let id = '';
      // One handle in 64 starts with '-'; 2,000 tries miss one with probability below 1e-13.
      for (let i = 0; i < 2_000 && !handleOf(id).startsWith('-'); i++) {
        if (id !== '') await dashed.destroy(id);
        id = (await dashed.create({ n: i }, { userId: 'dash' })).id;
      }
      const handle = handleOf(id);
      expect(handle.startsWith('-')).toBe(true);
      const before = await run(prefix, 'session', 'get', handle, '--json');
      expect(before.code).toBe(2);
      // Whatever follows the '-' (-y is an option of the CLI), the error names the whole handle.
      expect(JSON.parse(before.stderr).error.message).toContain(`if '${handle}' is a value`);
      expect(parsed(await run(prefix, 'session', 'get', '--json', '--', handle))).toMatchObject({
        handle,
        userId: 'dash',
      });
      expect(parsed(await run(prefix, 'session', 'revoke', '--yes', '--json', '--', handle))).toEqual({
        handle,
        revoked: true,
      });
      expect(await dashed.get(id)).toBeNull();
    } finally {
      await dashed.close();
    }
  });

  it('shows cache stats, keys and one entry with its tag', async () => {
    const stats = parsed(await run(prefixes.cache, 'cache', 'stats', '--json'));
    expect(stats).toMatchObject({ entries: 4, tagVersions: 1, complete: true });
    expect(stats.tags).toEqual([{ tag: 'users', sampledEntries: 3 }]);
    const keys = parsed(await run(prefixes.cache, 'cache', 'keys', '--match', 'user:*', '--json'));
    expect(keys.items.sort()).toEqual(['user:1', 'user:2', 'user:3']);
    const entry = parsed(await run(prefixes.cache, 'cache', 'get', 'user:2', '--value', '--json'));
    expect(entry).toMatchObject({
      key: 'user:2',
      state: 'fresh',
      tags: [{ tag: 'users', current: true }],
      value: { n: 2 },
    });
    expect((await run(prefixes.cache, 'cache', 'get', 'user:9')).code).toBe(1);
    expect((await run(prefixes.cache, 'cache', 'keys')).stdout.split('\n').sort()).toEqual([
      'config',
      'user:1',
      'user:2',
      'user:3',
    ]);
  });

  it('invalidates a tag and deletes by pattern with progress on stderr, only with --yes', async () => {
    expect((await run(prefixes.cache, 'cache', 'invalidate-tag', 'users')).code).toBe(2);
    expect(await cache.get('user:1')).toEqual({ n: 1 });
    const invalidated = parsed(
      await run(prefixes.cache, 'cache', 'invalidate-tag', 'users', '--yes', '--json'),
    );
    expect(invalidated).toEqual({ tag: 'users', invalidated: true });
    expect(await cache.get('user:1')).toBeUndefined();

    expect((await run(prefixes.cache, 'cache', 'delete', 'user:*')).code).toBe(2);
    const deleted = await run(prefixes.cache, 'cache', 'delete', 'user:*', '--yes', '--count', '10');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe('deleted 3 entries');
    expect(deleted.stderr).toMatch(/^page 1: \d+ deleted/);
    expect(deleted.stderr).toContain('(3 in all)');
    const left = parsed(await run(prefixes.cache, 'cache', 'keys', '--json'));
    expect(left.items).toEqual(['config']);
  });
});
