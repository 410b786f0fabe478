/*
 * The lifecycle test of connect-redis 11.0.0 (its index_test.ts, `lifecycleTest`), rewritten for our
 * express-session store created with default options, so a team moving off connect-redis can see
 * the same steps pass. Where this port departs from the original, and why:
 *
 * - Their "defaults" test reads the store's option fields (prefix 'sess:', ttl 86400, scanCount,
 *   serializer, disableTouch, disableTTL). Skipped: our options are different ones (userIdOf,
 *   lifetime, absoluteTtlMs, migrateFrom on the adapter; prefix, idleTtlMs... on the store).
 * - Ids: theirs are '123', '456', '789' and 's0'..'s999'. Ours must hold a run of 32 URL-safe
 *   characters (src/ids.ts), so each id here is a readable name followed by such a run.
 * - Key layout: they read `sess:<id>` with TTL (seconds). Redis holds only the SHA-256 handle of an
 *   id here, so keys come from keyOf(prefix, id) and lifetimes from PTTL (ms).
 * - TTL default: theirs asserts >= one day, their default ttl. A session whose cookie has neither
 *   maxAge nor expires lives here for the store's idleTtlMs (30 minutes by default).
 * - ids() answers handles, not ids; all() answers `{ handle, ...data }` where they put `id`.
 * - Each test uses its own key prefix (clear() deletes every key under the prefix). On top of the
 *   original: get, set and destroy answer through callbacks as well as promises, and one data
 *   object set under two ids is stored under both (connect-redis serializes it on every set).
 */
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { Cookie, type SessionData as ExpressSessionData } from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressStore, type ExpressSessionStore } from '../src/express.ts';
import { createSessionStore, handleOf, type SessionStore } from '../src/index.ts';
import { keyOf, pttl } from './helpers.ts';

const RANDOM_RUN = 'x'.repeat(32);
/** An id our rule accepts, named like the one connect-redis's test uses. */
const idFor = (name: string) => `${name}-${RANDOM_RUN}`;

/** A plain object as express-session hands it to a store. */
const asSession = (data: object) => data as ExpressSessionData;

/** express-session's way of calling a store: a callback, turned into a promise here. */
function viaCallback<T>(call: (done: (err?: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))));
}

describe.each(topologies())("connect-redis's lifecycle test, ported, on $name", ({ url }) => {
  let redis: RedisConnection;

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  /** Our express store with default options, under a prefix of its own. */
  const openStore = (): { prefix: string; sessions: SessionStore; store: ExpressSessionStore } => {
    const prefix = uniquePrefix('session-cr-port');
    const sessions = createSessionStore({ redis, prefix });
    return { prefix, sessions, store: createExpressStore(sessions) };
  };

  it('stores, reads, lists, counts, touches and clears sessions as connect-redis does', async () => {
    const { prefix, sessions, store } = openStore();
    await store.clear();

    // A browser-session cookie (no maxAge, no expires): the data comes back as it was stored.
    const plain = idFor('first');
    const plainData = { foo: 'bar', cookie: { originalMaxAge: null } };
    await store.set(plain, asSession(plainData));
    expect(await store.get(plain)).toEqual(plainData);
    const plainTtl = await pttl(redis, keyOf(prefix, plain));
    expect(plainTtl).toBeGreaterThan(sessions.idleTtlMs - 5_000);
    expect(plainTtl).toBeLessThanOrEqual(sessions.idleTtlMs);

    // A cookie with a fixed expiry 60 s away ends the session then.
    const fixed = idFor('second');
    const expires = new Date(Date.now() + 60_000);
    await store.set(fixed, asSession({ cookie: { originalMaxAge: null, expires } }));
    const fixedKey = keyOf(prefix, fixed);
    expect(await pttl(redis, fixedKey)).toBeLessThanOrEqual(60_000);
    expect(await pttl(redis, fixedKey)).toBeGreaterThan(55_000);

    // A touch carrying a later expiry moves the end.
    const later = new Date(Date.now() + 90_000);
    await store.touch(fixed, asSession({ cookie: { originalMaxAge: null, expires: later } }));
    expect(await pttl(redis, fixedKey)).toBeGreaterThan(60_000);
    expect(await pttl(redis, fixedKey)).toBeLessThanOrEqual(90_000);

    expect(await store.length()).toBe(2);
    expect((await store.ids()).sort()).toEqual([handleOf(plain), handleOf(fixed)].sort());
    const byHandle = (a: { handle: string }, b: { handle: string }) => (a.handle > b.handle ? 1 : -1);
    expect((await store.all()).sort(byHandle)).toEqual(
      [
        { handle: handleOf(plain), foo: 'bar', cookie: { originalMaxAge: null } },
        // The touch moved the end in Redis but, like connect-redis's EXPIRE, left the data as set.
        { handle: handleOf(fixed), cookie: { originalMaxAge: null, expires: expires.toISOString() } },
      ].sort(byHandle),
    );

    await store.destroy(fixed);
    expect(await store.length()).toBe(1);
    await store.clear();
    expect(await store.length()).toBe(0);

    // 1000 sessions with express-session's own Cookie, expiring in 60 s, saved 100 at a time.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => {
          const cookie = new Cookie();
          cookie.expires = new Date(Date.now() + 60_000);
          return store.set(idFor(`s${batch * 100 + i}`), asSession({ cookie }));
        }),
      );
    }
    expect(await store.length()).toBe(1000);
    await store.clear();
    expect(await store.length()).toBe(0);

    // A save whose cookie has already expired ends the session it names.
    const third = idFor('third');
    await store.set(third, asSession({ cookie: { originalMaxAge: null, expires: later } }));
    expect(await store.length()).toBe(1);
    const past = new Date(Date.now() - 90_000);
    await store.set(third, asSession({ cookie: { originalMaxAge: null, expires: past } }));
    expect(await store.length()).toBe(0);
    expect(await store.get(third)).toBeNull();
  });

  it('answers get, set and destroy through callbacks, as express-session calls them, and promises', async () => {
    const { store } = openStore();
    const byCallback = idFor('callback');
    const byPromise = idFor('promise');
    const data = (foo: string) => ({ foo, cookie: { originalMaxAge: null } });

    await viaCallback<void>((done) => store.set(byCallback, asSession(data('cb')), done));
    await expect(store.set(byPromise, asSession(data('promise')))).resolves.toBeUndefined();
    expect(await viaCallback((done) => store.get(byPromise, done))).toEqual(data('promise'));
    expect(await store.get(byCallback)).toEqual(data('cb'));

    await viaCallback<void>((done) => store.destroy(byPromise, done));
    await expect(store.destroy(byCallback)).resolves.toBeUndefined();
    expect(await viaCallback((done) => store.get(byCallback, done))).toBeNull();
    expect(await store.get(byPromise)).toBeNull();
    expect(await store.length()).toBe(0);
  });

  it('stores one data object saved under two ids under both, as connect-redis does', async () => {
    const { store } = openStore();
    // connect-redis serializes what it is given on every set, so a caller may reuse an object:
    // for a template of new sessions, or to copy a session it read to another id.
    const template = { foo: 'shared', cookie: { originalMaxAge: null } };
    await store.set(idFor('one'), asSession(template));
    await store.set(idFor('two'), asSession(template));
    expect.soft(await store.get(idFor('two'))).toEqual(template);

    const read = await store.get(idFor('one'));
    if (read === null) throw new Error('the first session is missing');
    await store.set(idFor('copy'), read);
    expect.soft(await store.get(idFor('copy'))).toEqual(template);
    expect(await store.length()).toBe(3);
  });
});
