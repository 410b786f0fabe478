import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressStore, type ExpressSessionStore } from '../src/express.ts';
import { createSessionStore, handleOf, type SessionStore } from '../src/index.ts';
import { listen, shopApp } from './express-app.ts';
import { Browser, hash, keyOf, noSession, pttl, sleep, storedData } from './helpers.ts';

describe.each(topologies())('express-session adapter on $name', ({ url }) => {
  let redis: RedisConnection;
  let sessions: SessionStore;
  let store: ExpressSessionStore;
  let server: { base: string; close: () => Promise<void> };
  const prefix = uniquePrefix('session-express');
  const sidKey = (browser: Browser) => keyOf(prefix, browser.sessionId('sid') ?? '');

  beforeAll(async () => {
    redis = await connect({ url });
    sessions = createSessionStore({ redis, prefix, touchAfterMs: 1_000 });
    store = createExpressStore(sessions, { userIdOf: (s) => s.userId as string | undefined });
    server = await listen(shopApp(sessions, store));
  });
  afterAll(async () => {
    await server?.close();
    await redis?.close();
  });

  it('keeps an anonymous cart, rotates the id on login, and the pre-login id no longer works', async () => {
    const browser = new Browser(server.base);
    expect((await browser.request('GET', '/me')).body).toEqual({ userId: null, cart: [] });
    expect(browser.cookies.has('sid')).toBe(false); // saveUninitialized: false
    await browser.request('POST', '/cart/book');
    const anonymousId = browser.sessionId('sid');
    expect(anonymousId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const planted = browser.clone();

    await browser.request('POST', '/login/ann');
    expect(browser.sessionId('sid')).not.toBe(anonymousId);
    expect((await browser.request('GET', '/me')).body).toEqual({ userId: 'ann', cart: ['book'] });
    expect((await planted.request('GET', '/me')).body).toEqual({ userId: null, cart: [] });
    expect(await noSession(redis, keyOf(prefix, anonymousId ?? ''))).toBe(true);
    expect((await sessions.listForUser('ann')).map((s) => s.handle)).toContain(
      handleOf(browser.sessionId('sid') ?? ''),
    );
  });

  it('logs out: the session leaves Redis and the user index, and its cookie is worthless', async () => {
    const browser = new Browser(server.base);
    await browser.request('POST', '/login/bob');
    const copy = browser.clone();
    const key = sidKey(browser);
    expect(await redis.send(['EXISTS', key], { key })).toBe(1);
    await browser.request('POST', '/logout');
    expect(await noSession(redis, key)).toBe(true);
    expect((await copy.request('GET', '/me')).body.userId).toBeNull();
    expect(await sessions.listForUser('bob')).toEqual([]);
  });

  it('slides the idle TTL on an unchanged request through get alone, and skips it within touchAfterMs', async () => {
    const browser = new Browser(server.base);
    await browser.request('POST', '/cart/pen');
    const key = sidKey(browser);
    const before = await hash(redis, key);
    await redis.send(['PEXPIRE', key, '5000'], { key });
    await browser.request('GET', '/me');
    expect(await pttl(redis, key)).toBeLessThanOrEqual(5_000); // refreshed < 1 s ago: no write
    expect((await hash(redis, key)).v).toBe(before.v);
    await redis.send(['HSET', key, 'r', String(Number(before.r) - 2_000)], { key });
    await browser.request('GET', '/me');
    expect(await pttl(redis, key)).toBeGreaterThan(sessions.idleTtlMs - 5_000);
    expect((await hash(redis, key)).v).toBe(before.v); // a refresh, not a data write
  });

  it('logs out everywhere else: other devices of the user end, this one and other users stay', async () => {
    const laptop = new Browser(server.base);
    const phone = new Browser(server.base);
    const other = new Browser(server.base);
    await laptop.request('POST', '/login/cat');
    await phone.request('POST', '/login/cat');
    await other.request('POST', '/login/dan');
    expect(await sessions.listForUser('cat')).toHaveLength(2);
    expect((await laptop.request('POST', '/logout-everywhere')).body).toEqual({ ended: 1 });
    expect((await phone.request('GET', '/me')).body.userId).toBeNull();
    expect((await laptop.request('GET', '/me')).body.userId).toBe('cat');
    expect((await other.request('GET', '/me')).body.userId).toBe('dan');
  });

  it('keeps both properties when two slow requests change different ones at once (no lost update)', async () => {
    const browser = new Browser(server.base);
    await browser.request('POST', '/cart/mug');
    await Promise.all([
      browser.request('POST', '/slow/first/150'),
      browser.request('POST', '/slow/second/50'),
    ]);
    const stored = await storedData(redis, sidKey(browser));
    expect([stored.first, stored.second, stored.cart]).toEqual(['true', 'true', '["mug"]']);
  });

  it('does not bring a session back when a slow request ends after logout', async () => {
    const browser = new Browser(server.base);
    await browser.request('POST', '/login/eve');
    const key = sidKey(browser);
    const slow = browser.clone().request('POST', '/slow/late/200');
    await sleep(50);
    await browser.request('POST', '/logout');
    expect((await slow).status).toBe(200);
    expect(await noSession(redis, key)).toBe(true);
  });

  it('never re-creates a destroyed session from a late save whose read the adapter forgot', async () => {
    const browser = new Browser(server.base);
    await browser.request('POST', '/login/zed');
    const sid = browser.sessionId('sid') ?? '';
    await browser.request('POST', '/logout');
    // A save after the logout from an adapter that holds no read of this session: another instance
    // of the app, or this one after the read was evicted (past its age or count bounds).
    const other = createExpressStore(sessions, { userIdOf: (s) => s.userId as string | undefined });
    const late = { cookie: { originalMaxAge: null }, userId: 'zed', cart: ['late'] };
    await new Promise<void>((resolve, reject) =>
      other.set(sid, late as never, (err?: unknown) => (err ? reject(err) : resolve())),
    );
    expect(await sessions.get(sid)).toBeNull();
    expect(await noSession(redis, keyOf(prefix, sid))).toBe(true);
    expect(await sessions.listForUser('zed')).toEqual([]);
  });

  it('lists, counts, and clears sessions across every master with the Store methods', async () => {
    const ownPrefix = uniquePrefix('session-express-all');
    const own = createSessionStore({ redis, prefix: ownPrefix });
    const ownStore = createExpressStore(own, { userIdOf: (s) => s.userId as string | undefined });
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) => own.create({ n: i }, { userId: `u${i % 3}` })),
    );
    await own.regenerate(created[0]?.id ?? ''); // leaves a tombstone, which is not a session
    const call = <T>(fn: (cb: (err: unknown, value?: T) => void) => void) =>
      new Promise<T | undefined>((resolve, reject) =>
        fn((err, value) => (err ? reject(err) : resolve(value))),
      );
    expect(await call<number>((cb) => ownStore.length(cb))).toBe(30);
    const all = await call<Record<string, { n: number }>>((cb) => ownStore.all(cb as never));
    expect(
      Object.values(all ?? {})
        .map((s) => s.n)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const handles = await call<string[]>((cb) => ownStore.ids(cb));
    expect(handles).toHaveLength(30);
    expect(handles).toContain(handleOf(created[1]?.id ?? ''));
    await call((cb) => ownStore.clear(cb));
    expect(await call<number>((cb) => ownStore.length(cb))).toBe(0);
    expect(await own.listForUser('u1')).toEqual([]);
  });

  it("also works with express-session's own 192-bit ids when genid is not passed", async () => {
    const defaults = await listen(shopApp(sessions, store, { genid: false }));
    try {
      const browser = new Browser(defaults.base);
      await browser.request('POST', '/cart/x');
      expect(browser.sessionId('sid')).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect((await browser.request('GET', '/me')).body.cart).toEqual(['x']);
      const key = sidKey(browser);
      expect(await redis.send(['EXISTS', key], { key })).toBe(1);
    } finally {
      await defaults.close();
    }
  });
});
