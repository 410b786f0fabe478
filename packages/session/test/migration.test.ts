import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '@redis-patterns/connection';
import { type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import { RedisStore } from 'connect-redis';
import { Cookie, type SessionData as ExpressSessionData } from 'express-session';
import { describe, expect, it } from 'vitest';
import { createExpressStore } from '../src/express.ts';
import { createSessionStore, handleOf } from '../src/index.ts';
import { Browser, keyOf, pttl, sleep } from './helpers.ts';
import { connectRedisStore, type NodeRedisClient, startExpressApp, withClients } from './http-apps.ts';

const userIdOf = (session: object) => (session as { userId?: string }).userId;

/** An id as express-session makes them by default (uid-safe, 24 bytes): 32 base64url characters. */
const frameworkId = () => randomBytes(24).toString('base64url');

/** A logged-in session as express-session hands it to connect-redis. */
function loggedIn(userId: string, maxAgeMs: number) {
  const cookie = new Cookie();
  cookie.maxAge = maxAgeMs; // sets expires and originalMaxAge, as session({ cookie: { maxAge } }) does
  cookie.sameSite = 'lax';
  return { cookie, userId, cart: ['book'] } as unknown as ExpressSessionData;
}

/** What connect-redis stored for `session` (its JSON), as plain data. */
const asStored = (session: ExpressSessionData) => JSON.parse(JSON.stringify(session));

describe.each(topologies())('migration from connect-redis 9 on $name', (topology: Topology) => {
  let redis: RedisConnection;
  let client: NodeRedisClient;
  withClients(topology, (opened, legacyClient) => {
    redis = opened;
    client = legacyClient;
  });

  /** connect-redis under a prefix of its own, and our store reading it (or not, `migrate: false`). */
  function stores(options: { migrate?: boolean; legacyPrefix?: string } = {}) {
    const legacyPrefix = options.legacyPrefix ?? uniquePrefix('sess');
    const prefix = uniquePrefix('session-migrate');
    const sessions = createSessionStore({ redis, prefix });
    const migrateFrom = options.migrate === false ? {} : { migrateFrom: { prefix: legacyPrefix } };
    const ours = createExpressStore(sessions, { userIdOf, ...migrateFrom });
    const legacy = connectRedisStore(client, legacyPrefix);
    const legacyKey = (sid: string) => legacyPrefix + sid;
    return { prefix, sessions, ours, legacy, legacyKey };
  }

  const exists = (key: string) => redis.send<number>(['EXISTS', key], { key });

  it('moves a session on its first read: data and cookie back, old key gone, listed, TTL from its cookie', async () => {
    const { prefix, sessions, ours, legacy, legacyKey } = stores();
    const sid = frameworkId();
    const written = loggedIn('ann', 600_000);
    await legacy.set(sid, written);
    expect(await exists(legacyKey(sid))).toBe(1);

    const before = Date.now();
    const read = await ours.get(sid);
    const stored = asStored(written);
    // A maxAge cookie comes back expiring when Redis will drop the session (see src/cookie.ts).
    expect(read).toEqual({ ...stored, cookie: { ...stored.cookie, expires: expect.any(String) } });
    const expires = Date.parse(String(read?.cookie.expires));
    expect(expires).toBeGreaterThanOrEqual(before + 600_000 - 1_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 660_000 + 1_000);

    expect(await exists(legacyKey(sid))).toBe(0);
    expect((await sessions.listForUser('ann')).map((s) => s.handle)).toEqual([handleOf(sid)]);
    // The cookie's 10 minutes plus its skip window, min(touchAfterMs, maxAge / 10) = 60 s.
    const ttl = await pttl(redis, keyOf(prefix, sid));
    expect(ttl).toBeGreaterThan(600_000 - 2_000);
    expect(ttl).toBeLessThanOrEqual(660_000);
  });

  it("gives a migrated session with a fixed-expiry cookie the rest of that cookie's life", async () => {
    const { prefix, ours, legacy } = stores();
    const sid = frameworkId();
    const expires = new Date(Date.now() + 120_000);
    await legacy.set(sid, { cookie: { originalMaxAge: null, expires }, userId: 'fix' } as ExpressSessionData);
    const read = await ours.get(sid);
    expect(read).toEqual({ cookie: { originalMaxAge: null, expires: expires.toISOString() }, userId: 'fix' });
    const ttl = await pttl(redis, keyOf(prefix, sid));
    expect(ttl).toBeGreaterThan(115_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('reads a migrated session from our store alone afterwards, never from the old key', async () => {
    const { ours, legacy, legacyKey } = stores();
    const sid = frameworkId();
    await legacy.set(sid, loggedIn('bob', 600_000));
    expect((await ours.get(sid))?.userId).toBe('bob');

    expect((await ours.get(sid))?.userId).toBe('bob');
    expect(await exists(legacyKey(sid))).toBe(0);
    // Something writes the old key again: a hit here neither reads it (no GET) nor deletes it.
    await legacy.set(sid, loggedIn('mallory', 600_000));
    expect((await ours.get(sid))?.userId).toBe('bob');
    expect(await exists(legacyKey(sid))).toBe(1);
  });

  it('does not migrate a session whose cookie has expired, and drops the old key', async () => {
    const { prefix, sessions, ours, legacyKey } = stores();
    const sid = frameworkId();
    // connect-redis sets a TTL that ends with the cookie, but a `ttl` option of the app's, or a
    // clock step, can leave a key whose cookie has passed: written here by hand.
    const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() - 1_000).toISOString(), path: '/' };
    const key = legacyKey(sid);
    await redis.send(['SET', key, JSON.stringify({ cookie, userId: 'cid' }), 'EX', '60'], { key });

    expect(await ours.get(sid)).toBeNull();
    expect(await exists(key)).toBe(0);
    expect(await exists(keyOf(prefix, sid))).toBe(0);
    expect(await sessions.listForUser('cid')).toEqual([]);
  });

  it('answers 10 concurrent first reads of one old session with the session, migrated once', async () => {
    const { sessions, ours, legacy, legacyKey } = stores();
    const together = frameworkId();
    const staggered = frameworkId();
    await legacy.set(together, loggedIn('dee', 600_000));
    await legacy.set(staggered, loggedIn('dee', 600_000));

    // The same tick (one batch of reads), then spread over a few milliseconds.
    const reads = await Promise.all([
      ...Array.from({ length: 10 }, () => ours.get(together)),
      ...Array.from({ length: 10 }, (_, i) => sleep(i % 4).then(() => ours.get(staggered))),
    ]);
    expect(reads.map((read) => read?.userId)).toEqual(Array(20).fill('dee'));
    expect(reads.map((read) => read?.cart)).toEqual(Array(20).fill(['book']));
    expect([await exists(legacyKey(together)), await exists(legacyKey(staggered))]).toEqual([0, 0]);
    expect((await sessions.listForUser('dee')).map((s) => s.handle).sort()).toEqual(
      [handleOf(together), handleOf(staggered)].sort(),
    );
  });

  it("parses old sessions with connect-redis's own serializer when migrateFrom is given its parse", async () => {
    const legacyPrefix = uniquePrefix('sess-b64');
    const base64 = {
      stringify: (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64'),
      parse: (text: string) => JSON.parse(Buffer.from(text, 'base64').toString()),
    };
    const legacy = new RedisStore({ client, prefix: legacyPrefix, serializer: base64 });
    const sessions = createSessionStore({ redis, prefix: uniquePrefix('session-migrate-b64') });
    const ours = createExpressStore(sessions, {
      userIdOf,
      migrateFrom: { prefix: legacyPrefix, serializer: base64 },
    });
    const sid = frameworkId();
    await legacy.set(sid, loggedIn('hal', 600_000));
    expect(await ours.get(sid)).toMatchObject({ userId: 'hal', cart: ['book'] });
    expect(await exists(legacyPrefix + sid)).toBe(0);
  });

  it('ends a session not migrated yet on destroy: a later read does not bring it back from the old key', async () => {
    // An app that ends sessions by id (a "log this device out" page, an admin tool) calls destroy
    // without a read first; the session still sits under connect-redis's key.
    const { ours, legacy } = stores();
    const sid = frameworkId();
    await legacy.set(sid, loggedIn('ivy', 600_000));
    await ours.destroy(sid);
    expect(await ours.get(sid)).toBeNull();
  });

  it('does not find old sessions without migrateFrom, and leaves them alone', async () => {
    const { ours, legacy, legacyKey } = stores({ migrate: false });
    const sid = frameworkId();
    await legacy.set(sid, loggedIn('eve', 600_000));
    expect(await ours.get(sid)).toBeNull();
    expect(await exists(legacyKey(sid))).toBe(1);
    await legacy.destroy(sid);
  });

  it("reads connect-redis's default prefix 'sess:' when migrateFrom names none", async () => {
    const prefix = uniquePrefix('session-migrate-default');
    const sessions = createSessionStore({ redis, prefix });
    const ours = createExpressStore(sessions, { userIdOf, migrateFrom: {} });
    const legacy = connectRedisStore(client, 'sess:');
    const sid = frameworkId();
    await legacy.set(sid, loggedIn('fay', 600_000));
    try {
      expect((await ours.get(sid))?.userId).toBe('fay');
      expect(await exists(`sess:${sid}`)).toBe(0);
    } finally {
      await legacy.destroy(sid);
    }
  });

  it('keeps a user logged in over HTTP when the app moves from connect-redis to our store', async () => {
    const { sessions, ours, legacy, legacyKey } = stores();
    const before = await startExpressApp(legacy, { maxAgeMs: 3_600_000 });
    const browser = new Browser(before.base);
    try {
      await browser.request('POST', '/login/gus');
      expect((await browser.request('GET', '/me')).body.userId).toBe('gus');
    } finally {
      await before.close();
    }
    const sid = browser.sessionId('sid') ?? '';
    expect(sid).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await exists(legacyKey(sid))).toBe(1);

    // The same secret and cookie name, the store replaced: the browser keeps its cookie.
    const after = await startExpressApp(ours, { maxAgeMs: 3_600_000 });
    try {
      const moved = new Browser(after.base);
      moved.cookies = new Map(browser.cookies);
      expect((await moved.request('GET', '/me')).body.userId).toBe('gus');
      expect((await moved.request('GET', '/me')).body.userId).toBe('gus');
      expect(await exists(legacyKey(sid))).toBe(0);
      expect((await sessions.listForUser('gus')).map((s) => s.handle)).toEqual([handleOf(sid)]);
      const kept = moved.clone();
      await moved.request('POST', '/logout');
      expect((await kept.request('GET', '/me')).body.userId).toBeNull();
    } finally {
      await after.close();
    }
  });
});
