import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import type { SessionData as ExpressSessionData } from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressStore, type ExpressStoreOptions } from '../src/express.ts';
import { createFastifyStore } from '../src/fastify.ts';
import { createSessionStore, handleOf, type SessionStore } from '../src/index.ts';
import { hash, keyOf, pttl, withMaxAge } from './helpers.ts';

// The adapters' lifetime rules (src/cookie.ts, src/lua/lib/window.lua), called as the frameworks
// call a store, without HTTP: http-lifetimes.test.ts shows the same through real apps.

const DAY_MS = 86_400_000;
const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
/** A session whose cookie ends at a fixed time. */
const endingAt = (expires: string, extra: object = {}) =>
  ({ cookie: { originalMaxAge: null, expires, path: '/' }, ...extra }) as unknown as ExpressSessionData;

describe.each(topologies())('cookie-driven session lifetimes on $name', ({ url }) => {
  let redis: RedisConnection;
  let sessions: SessionStore;
  let prefix: string;

  beforeAll(async () => {
    redis = await connect({ url });
    prefix = uniquePrefix('session-cookie-life');
    sessions = createSessionStore({ redis, prefix });
  });
  afterAll(async () => {
    await redis?.close();
  });

  const open = (options: ExpressStoreOptions = {}) => createExpressStore(sessions, options);
  const newId = () => open().genid();
  const ttlOf = (sid: string) => pttl(redis, keyOf(prefix, sid));

  it("makes a cookie's maxAge the session's idle timeout, plus min(touchAfterMs, maxAge / 10)", async () => {
    const store = open();
    const long = newId();
    const short = newId();
    await store.set(long, withMaxAge(600_000));
    await store.set(short, withMaxAge(100_000));
    expect((await hash(redis, keyOf(prefix, long))).i).toBe('600000');
    expect(await ttlOf(long)).toBeGreaterThan(660_000 - 2_000); // touchAfterMs is 60 s
    expect(await ttlOf(long)).toBeLessThanOrEqual(660_000);
    expect(await ttlOf(short)).toBeGreaterThan(110_000 - 2_000); // a tenth of 100 s
    expect(await ttlOf(short)).toBeLessThanOrEqual(110_000);
  });

  it("takes a maxAge that drifted by milliseconds (express-session 1.19's reset) as the same lifetime, a real change as a new one", async () => {
    const store = open();
    const sid = newId();
    await store.set(sid, withMaxAge(600_000, { n: 0 }));
    const key = keyOf(prefix, sid);
    const lifeOf = async () => {
      const { i, a } = await hash(redis, key);
      return { i, a };
    };
    const before = await lifeOf();
    // express-session recomputes originalMaxAge from two clock reads on every reset, and loses a
    // millisecond when the clock ticks between them: neither the touch nor the save of that request
    // writes a lifetime (each would rewrite i and a, the touch in a script of its own).
    await store.get(sid);
    await store.touch(sid, withMaxAge(599_999, { n: 0 }));
    await store.get(sid);
    await store.set(sid, withMaxAge(599_998, { n: 1 }));
    expect(await lifeOf()).toEqual(before);
    expect((await store.get(sid))?.n).toBe(1);
    // A maxAge the app changed is a new lifetime.
    await store.set(sid, withMaxAge(1_200_000, { n: 2 }));
    expect((await lifeOf()).i).toBe('1200000');
  });

  it("uses the store's idleTtlMs for a browser-session cookie, and for any cookie with lifetime 'store'", async () => {
    const plain = newId();
    await open().set(plain, { cookie: { originalMaxAge: null } } as ExpressSessionData);
    const fixedByStore = newId();
    await open({ lifetime: 'store' }).set(fixedByStore, withMaxAge(10_000));
    for (const sid of [plain, fixedByStore]) {
      expect(await ttlOf(sid)).toBeGreaterThan(sessions.idleTtlMs - 2_000);
      expect(await ttlOf(sid)).toBeLessThanOrEqual(sessions.idleTtlMs);
      expect((await hash(redis, keyOf(prefix, sid))).i).toBeUndefined();
    }
    expect(() => open({ lifetime: 'store', absoluteTtlMs: 1_000 })).toThrow(InvalidArgumentError);
  });

  it('ends a fixed-expiry session at its expiry, and a later save or touch moves that end', async () => {
    const store = open();
    const sid = newId();
    await store.set(sid, endingAt(iso(60_000)));
    expect(await ttlOf(sid)).toBeLessThanOrEqual(60_000);
    expect(await ttlOf(sid)).toBeGreaterThan(58_000);

    await store.touch(sid, endingAt(iso(120_000)));
    expect(await ttlOf(sid)).toBeGreaterThan(118_000);
    expect(await ttlOf(sid)).toBeLessThanOrEqual(120_000);

    const read = await store.get(sid);
    if (read === null) throw new Error('session missing');
    read.cookie.expires = new Date(Date.now() + 30_000);
    await store.set(sid, read);
    expect(await ttlOf(sid)).toBeGreaterThan(28_000);
    expect(await ttlOf(sid)).toBeLessThanOrEqual(30_000);
    // A fixed-expiry cookie is read back as stored.
    expect((await store.get(sid))?.cookie.expires).toBe(read.cookie.expires.toISOString());
  });

  it('caps every cookie by absoluteTtlMs from creation: 400 days by default, or the option', async () => {
    const store = open();
    const yearsAway = newId();
    const hugeMaxAge = newId();
    await store.set(yearsAway, endingAt(iso(500 * DAY_MS)));
    await store.set(hugeMaxAge, withMaxAge(500 * DAY_MS));
    for (const sid of [yearsAway, hugeMaxAge]) expect(await ttlOf(sid)).toBeLessThanOrEqual(400 * DAY_MS);
    const fields = await hash(redis, keyOf(prefix, hugeMaxAge));
    expect(Number(fields.a) - Number(fields.c)).toBe(400 * DAY_MS);

    const capped = newId();
    await open({ absoluteTtlMs: 5_000 }).set(capped, withMaxAge(600_000));
    expect(await ttlOf(capped)).toBeLessThanOrEqual(5_000);
    expect(await ttlOf(capped)).toBeGreaterThan(3_000);
  });

  it("scores a user's index entry past the session's end when a later save binds the user", async () => {
    // As @fastify/session logs in: the new session is saved anonymous, then again with its user.
    const store = open({ userIdOf: (s) => (s as { userId?: string }).userId });
    const sid = newId();
    await store.set(sid, withMaxAge(30 * DAY_MS));
    const read = await store.get(sid);
    await store.set(sid, { ...read, userId: 'bound-later' } as ExpressSessionData);
    const { a } = await hash(redis, keyOf(prefix, sid));
    const index = `${prefix}{user:bound-later}`;
    const score = await redis.send<string | null>(['ZSCORE', index, handleOf(sid)], { key: index });
    expect(Number(score)).toBeGreaterThanOrEqual(Number(a));
  });

  it('destroys the session on a save or touch whose cookie has expired or has a maxAge of 0', async () => {
    const store = open();
    const [bySave, byTouch, byZero] = [newId(), newId(), newId()];
    for (const sid of [bySave, byTouch, byZero]) await store.set(sid, withMaxAge(600_000, { userId: 'x' }));
    await store.set(bySave, endingAt(iso(-1_000)));
    await store.touch(byTouch, endingAt(iso(-1_000)));
    await store.set(byZero, { cookie: { originalMaxAge: 0 } } as ExpressSessionData);
    expect([await store.get(bySave), await store.get(byTouch), await store.get(byZero)]).toEqual([
      null,
      null,
      null,
    ]);
  });

  it("reads a maxAge cookie back expiring when Redis will drop the session, not at the login's expiry", async () => {
    for (const store of [open(), createFastifyStore(sessions)]) {
      const sid = newId();
      const written = withMaxAge(600_000);
      await store.set(sid, written);
      // As if the last refresh was 100 s ago: this read refreshes it (the skip window is 60 s), so
      // Redis keeps the session 11 minutes from now, later than the cookie written at login says.
      const key = keyOf(prefix, sid);
      const refreshedAt = Date.now() - 100_000;
      await redis.send(['HSET', key, 'r', String(refreshedAt)], { key });
      const read = (await store.get(sid)) as { cookie: { expires: string } } | null;
      const expires = Date.parse(read?.cookie.expires ?? '');
      const ttl = await ttlOf(sid);
      expect(Math.abs(expires - (Date.now() + ttl))).toBeLessThan(1_000);
      expect(expires).toBeGreaterThan(Date.parse(String(written.cookie.expires)) + 50_000);
    }
  });

  it('writes nothing for a save that changes only the cookie, and writes a change of its maxAge', async () => {
    const store = open();
    const sid = newId();
    const key = keyOf(prefix, sid);
    await store.set(sid, withMaxAge(600_000, { cart: ['pen'] }));
    const before = await hash(redis, key);

    const read = await store.get(sid);
    if (read === null) throw new Error('session missing');
    read.cookie.expires = new Date(Date.now() + 600_000); // what a rolling cookie does each request
    await store.set(sid, read);
    expect(await hash(redis, key)).toEqual(before);

    const again = await store.get(sid);
    if (again === null) throw new Error('session missing');
    again.cookie.originalMaxAge = 30 * DAY_MS; // "remember me"
    again.cookie.expires = new Date(Date.now() + 30 * DAY_MS);
    await store.set(sid, again);
    expect((await hash(redis, key)).i).toBe(String(30 * DAY_MS));
    expect(await ttlOf(sid)).toBeGreaterThan(30 * DAY_MS);
  });
});
