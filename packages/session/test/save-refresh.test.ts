import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressStore } from '../src/express.ts';
import { createSessionStore } from '../src/index.ts';
import { expiryAt, hash, keyOf, pttl, serverNow, sleep, withMaxAge } from './helpers.ts';

// A write slides the idle TTL as a read does (src/lua/lib/update-session.lua): only once the last
// refresh is older than the skip window, or when the write brings a new lifetime. Inside the window
// it changes the data and its version and leaves the key's expiry and `r` alone.

type Cart = { cart: string[]; counter?: number };

describe.each(topologies())('session writes and the idle TTL on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('session-save-refresh');

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  /** The key's absolute expiry (ms since 1970) and its last refresh, `r`. */
  const expiryOf = async (key: string) => ({
    at: await expiryAt(redis, key),
    r: (await hash(redis, key)).r,
  });

  it('inside the refresh window, a patch and a function update write the data and version but leave the expiry and r', async () => {
    const sessions = createSessionStore<Cart>({ redis, prefix, idleTtlMs: 600_000, touchAfterMs: 60_000 });
    const { id } = await sessions.create({ cart: ['a'] });
    const key = keyOf(prefix, id);
    const before = await expiryOf(key);
    const { v } = await hash(redis, key);
    await sleep(20); // a refresh now would move the expiry by at least this much

    expect(await sessions.update(id, { counter: 1 })).toBe(true);
    expect(await sessions.update(id, (data) => ({ ...data, cart: [...data.cart, 'b'] }))).toBe(true);

    expect(await expiryOf(key)).toEqual(before);
    const after = await hash(redis, key);
    expect(Number(after.v)).toBe(Number(v) + 2);
    expect((await sessions.get(id))?.data).toEqual({ cart: ['a', 'b'], counter: 1 });
  });

  it('past the refresh window, a write slides the TTL to the idle timeout from the server clock and records r', async () => {
    const sessions = createSessionStore<Cart>({ redis, prefix, idleTtlMs: 600_000, touchAfterMs: 200 });
    for (const write of [
      (id: string) => sessions.update(id, { counter: 2 }),
      (id: string) => sessions.update(id, (data) => ({ ...data, counter: 3 })),
    ]) {
      const { id } = await sessions.create({ cart: [] });
      const key = keyOf(prefix, id);
      const before = await expiryOf(key);
      await sleep(300);
      const from = await serverNow(redis, key);
      expect(await write(id)).toBe(true);
      const to = await serverNow(redis, key);
      const after = await expiryOf(key);
      expect(Number(after.r)).toBeGreaterThanOrEqual(from);
      expect(Number(after.r)).toBeLessThanOrEqual(to);
      // PEXPIRE reads the clock again after TIME: the same ms or one later.
      expect(after.at - (Number(after.r) + 600_000)).toBeGreaterThanOrEqual(0);
      expect(after.at - (Number(after.r) + 600_000)).toBeLessThanOrEqual(5);
      expect(after.at).toBeGreaterThan(before.at);
      // What a read reports agrees with what Redis holds (or is later, if this read refreshed).
      expect((await sessions.get(id))?.expiresAt).toBeGreaterThanOrEqual(after.at - 5);
    }
  });

  it('a write with touchAfterMs 0 slides the TTL every time', async () => {
    const sessions = createSessionStore<Cart>({ redis, prefix, idleTtlMs: 600_000, touchAfterMs: 0 });
    const { id } = await sessions.create({ cart: [] });
    const key = keyOf(prefix, id);
    const before = await expiryOf(key);
    await sleep(20);
    expect(await sessions.update(id, { counter: 4 })).toBe(true);
    expect((await expiryOf(key)).at).toBeGreaterThanOrEqual(before.at + 20);
  });

  it('a framework save that brings a new cookie lifetime sets the TTL, inside the window too', async () => {
    const sessions = createSessionStore({ redis, prefix, touchAfterMs: 60_000 });
    const store = createExpressStore(sessions);
    const sid = store.genid();
    const key = keyOf(prefix, sid);
    await store.set(sid, withMaxAge(600_000, { n: 0 }));
    expect(await pttl(redis, key)).toBeGreaterThan(600_000);
    // The same lifetime, read then saved in one request: the TTL stays where the create put it.
    const kept = await expiryOf(key);
    await sleep(20);
    await store.get(sid);
    await store.set(sid, withMaxAge(600_000, { n: 1 }));
    expect(await expiryOf(key)).toEqual(kept);
    // A shorter maxAge is a new lifetime: its TTL is set at once (the cookie's 60 s plus 6 s).
    await store.get(sid);
    await store.set(sid, withMaxAge(60_000, { n: 2 }));
    expect(await pttl(redis, key)).toBeLessThanOrEqual(66_000);
    expect(await pttl(redis, key)).toBeGreaterThan(60_000);
    expect((await store.get(sid))?.n).toBe(2);
  });

  it('a touch or cookie-only save keeps the key past the cookie the framework renewed, and slides it only then', async () => {
    const sessions = createSessionStore({ redis, prefix, touchAfterMs: 60_000 });
    const store = createExpressStore(sessions);

    // Read, save and touch well inside the window (maxAge 60 s: 6 s): the create's refresh still
    // keeps the key past the renewed cookie, and nothing slides.
    const quick = store.genid();
    await store.set(quick, withMaxAge(60_000, { n: 0 }));
    const created = await expiryAt(redis, keyOf(prefix, quick));
    await store.get(quick);
    const session = withMaxAge(60_000, { n: 1 });
    await store.set(quick, session);
    const cookieEnd = Date.now() + 60_000;
    await store.touch(quick, session);
    expect(await expiryAt(redis, keyOf(prefix, quick))).toBe(created);
    expect(created).toBeGreaterThanOrEqual(cookieEnd);

    // maxAge 5 s: Redis keeps the key 500 ms past the cookie after each refresh. A request whose
    // read came 300 ms after the last refresh, and whose handler worked on 400 ms after its save (an
    // explicit save, then a response): the cookie renewed at its end would outlive the key by about
    // 200 ms, so the touch slides it.
    const slow = store.genid();
    await store.set(slow, withMaxAge(5_000, { n: 0 }));
    await sleep(300);
    await store.get(slow);
    const slowSession = withMaxAge(5_000, { n: 1 });
    await store.set(slow, slowSession);
    await sleep(400);
    const renewedEnd = Date.now() + 5_000;
    await store.touch(slow, slowSession);
    expect(await expiryAt(redis, keyOf(prefix, slow))).toBeGreaterThanOrEqual(renewedEnd);
    expect((await store.get(slow))?.n).toBe(1);

    // The same with express-session's resave: true, which saves (set) where it would touch: a save
    // that changes only the cookie's expiry slides the TTL too once the window has passed.
    const resaved = store.genid();
    await store.set(resaved, withMaxAge(5_000, { n: 0 }));
    await sleep(300);
    await store.get(resaved);
    await sleep(400);
    const resavedEnd = Date.now() + 5_000;
    await store.set(resaved, withMaxAge(5_000, { n: 0 }));
    expect(await expiryAt(redis, keyOf(prefix, resaved))).toBeGreaterThanOrEqual(resavedEnd);
  });

  it('with touchAfterMs 0 a framework touch refreshes, so the key reaches past the renewed cookie', async () => {
    const sessions = createSessionStore({ redis, prefix, touchAfterMs: 0 });
    const store = createExpressStore(sessions);
    const sid = store.genid();
    const key = keyOf(prefix, sid);
    await store.set(sid, withMaxAge(60_000, { n: 0 }));
    await store.get(sid);
    const session = withMaxAge(60_000, { n: 0 });
    await sleep(50); // the handler's work
    const cookieEnd = Date.now() + 60_000;
    await store.touch(sid, session);
    expect(await expiryAt(redis, key)).toBeGreaterThanOrEqual(cookieEnd);
  });
});
