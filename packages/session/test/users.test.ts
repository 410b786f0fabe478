import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore, handleOf, type SessionStore } from '../src/index.ts';
import { sleep } from './helpers.ts';

type Cart = { cart: string[]; name?: string; counter?: number; [field: string]: unknown };

describe.each(topologies())('session store users on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('session');
  const store = <Data extends object = Cart>(
    options: Partial<Parameters<typeof createSessionStore>[0]> = {},
  ) => createSessionStore<Data>({ redis, prefix, ...options });
  let sessions: SessionStore<Cart>;

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
    sessions = store();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('binds a user on regenerate, restarts the lifetime on request, and moves the index entry', async () => {
    const user = `u-${Math.random()}`;
    const anonymous = await sessions.create({ cart: ['pen'] });
    const signedIn = await sessions.regenerate(anonymous.id, { userId: user, restartLifetime: true });
    expect(signedIn?.userId).toBe(user);
    expect(signedIn?.absoluteExpiresAt).toBeGreaterThanOrEqual(anonymous.absoluteExpiresAt);
    expect(signedIn?.createdAt).toBeGreaterThanOrEqual(anonymous.createdAt);
    const rotated = await sessions.regenerate(signedIn?.id ?? '');
    expect(rotated?.userId).toBe(user);
    expect(rotated?.absoluteExpiresAt).toBe(signedIn?.absoluteExpiresAt);
    const listed = await sessions.listForUser(user);
    expect(listed.map((s) => s.handle)).toEqual([handleOf(rotated?.id ?? '')]);
    expect(listed[0]?.data.cart).toEqual(['pen']);
  });

  it('keeps the new session of a login when the planted pre-login id is destroyed during the rotation', async () => {
    const user = `fixation-${Math.random()}`;
    for (let i = 0; i < 50; i++) {
      const planted = await sessions.create({ cart: [`p${i}`] });
      const [rotated, destroyed] = await Promise.all([
        sessions.regenerate(planted.id, { userId: user }),
        sessions.destroy(planted.id),
      ]);
      // Either the destroy ran first (nothing to rotate) or the rotation wins, whole.
      if (rotated === null) expect(destroyed).toBe(true);
      else expect((await sessions.get(rotated.id))?.data.cart).toEqual([`p${i}`]);
      expect(await sessions.get(planted.id)).toBeNull();
    }
  });

  it('never ends the session of another user through a stale entry in an index', async () => {
    const mallory = `m-${Math.random()}`;
    const bob = `b-${Math.random()}`;
    const bobs = await sessions.create({ cart: ['bob'] }, { userId: bob });
    // A stale entry (as a failed write could leave) naming Bob's session in Mallory's index.
    const index = `${prefix}{user:${mallory}}`;
    const absolute = String(bobs.absoluteExpiresAt);
    await redis.send(['ZADD', index, absolute, handleOf(bobs.id)], { key: index });
    expect(await sessions.listForUser(mallory)).toEqual([]);
    expect(await sessions.destroyAllForUser(mallory)).toBe(0);
    expect((await sessions.get(bobs.id))?.data.cart).toEqual(['bob']);
  });

  it("keeps a user's index until its last entry ends, and drops ended entries on a login", async () => {
    const user = `ttl-${Math.random()}`;
    const index = `${prefix}{user:${user}}`;
    const expireTime = () => redis.send<number>(['PEXPIRETIME', index], { key: index });
    const score = async (handle: string) =>
      redis.send<string | null>(['ZSCORE', index, handle], { key: index });
    const long = await sessions.create({ cart: [] }, { userId: user });
    const longEnd = Number(await score(handleOf(long.id)));
    expect(longEnd).toBeGreaterThan(long.absoluteExpiresAt);
    // A new index ends with its entry.
    expect(await expireTime()).toBe(longEnd);
    // A session that ends sooner leaves the index's end where it was.
    const early = await store({ absoluteTtlMs: 60_000 }).create({ cart: [] }, { userId: user });
    expect(Number(await score(handleOf(early.id)))).toBeLessThan(longEnd);
    expect(await expireTime()).toBe(longEnd);
    // An entry whose score has passed (a session that ended long ago) goes at the next login, which
    // moves the index's end up to its own entry's.
    await redis.send(['ZADD', index, '1', 'an-ended-handle'], { key: index });
    const later = await sessions.create({ cart: [] }, { userId: user });
    expect(await score('an-ended-handle')).toBeNull();
    const laterEnd = Number(await score(handleOf(later.id)));
    expect(laterEnd).toBeGreaterThanOrEqual(longEnd);
    expect(await expireTime()).toBe(laterEnd);
    expect((await sessions.listForUser(user)).map((s) => s.handle).sort()).toEqual(
      [long.id, early.id, later.id].map(handleOf).sort(),
    );
    // An index that lost its TTL (PERSIST, a RESTORE without one) gets its last entry's end back,
    // not the end of the entry a login adds.
    await redis.send(['PERSIST', index], { key: index });
    await store({ absoluteTtlMs: 60_000 }).create({ cart: [] }, { userId: user });
    expect(await expireTime()).toBe(laterEnd);
  });

  it('ends 1,000 sessions of a user but the current one, skipping those already expired', async () => {
    const user = `big-${Math.random()}`;
    const shortLived = store({ idleTtlMs: 300, touchAfterMs: 0 });
    const live = await Promise.all(
      Array.from({ length: 700 }, (_, i) => sessions.create({ cart: [String(i)] }, { userId: user })),
    );
    const dying = await Promise.all(
      Array.from({ length: 300 }, () => shortLived.create({ cart: [] }, { userId: user })),
    );
    const current = live[0]?.id ?? '';
    // The 300 short ones expire by idleness (their index entries stay until their absolute expiry).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await sessions.get(dying[299]?.id ?? '')) !== null) await sleep(100);
    await sleep(100);
    const listed = await sessions.listForUser(user);
    expect(listed).toHaveLength(700);
    expect(new Set(listed.map((s) => s.handle))).toEqual(new Set(live.map((s) => handleOf(s.id))));

    expect(await sessions.destroyAllForUser(user, { except: current })).toBe(699);
    expect((await sessions.listForUser(user)).map((s) => s.handle)).toEqual([handleOf(current)]);
    expect(await sessions.get(current)).not.toBeNull();
    const gone = await Promise.all(live.slice(1).map((s) => sessions.get(s.id)));
    expect(gone.every((s) => s === null)).toBe(true);
    expect(await sessions.destroyAllForUser(user)).toBe(1);
    expect(await sessions.listForUser(user)).toEqual([]);
  });

  it('keeps the user list complete while logins, rotations and "log out everywhere" race', async () => {
    const user = `race-${Math.random()}`;
    const before = await Promise.all(
      Array.from({ length: 10 }, () => sessions.create({ cart: [] }, { userId: user })),
    );
    const [, rotated, during] = await Promise.all([
      sessions.destroyAllForUser(user),
      Promise.all(before.map((s) => sessions.regenerate(s.id))),
      Promise.all(Array.from({ length: 20 }, () => sessions.create({ cart: [] }, { userId: user }))),
    ]);
    // Every session that existed when the revocation started is gone, even those it caught moving.
    for (const s of before) expect(await sessions.get(s.id)).toBeNull();
    for (const s of rotated) if (s !== null) expect(await sessions.get(s.id)).toBeNull();
    // A concurrent login either ended too or is listed: none survives unlisted.
    const listed = new Set((await sessions.listForUser(user)).map((s) => s.handle));
    for (const s of during) {
      if ((await sessions.get(s.id)) !== null) expect(listed.has(handleOf(s.id))).toBe(true);
    }
  });

  it('revokes a session by its handle', async () => {
    const user = `dev-${Math.random()}`;
    const phone = await sessions.create({ cart: [], name: 'phone' }, { userId: user });
    const laptop = await sessions.create({ cart: [], name: 'laptop' }, { userId: user });
    const listed = await sessions.listForUser(user);
    expect(listed.map((s) => s.data.name).sort()).toEqual(['laptop', 'phone']);
    const first = listed.find((s) => s.data.name === 'phone');
    expect(await sessions.revoke(first?.handle ?? '')).toBe(true);
    expect(await sessions.get(phone.id)).toBeNull();
    expect((await sessions.listForUser(user)).map((s) => s.data.name)).toEqual(['laptop']);
    await expect(sessions.revoke('nope')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await sessions.get(laptop.id)).not.toBeNull();

    // A handle listed before a rotation still ends the rotated session (the old key points to it)...
    const laptopHandle = handleOf(laptop.id);
    const rotated = await sessions.regenerate(laptop.id);
    expect(await sessions.revoke(laptopHandle)).toBe(true);
    expect(await sessions.get(rotated?.id ?? '')).toBeNull();
    // ...but destroy() with a pre-rotation id does not: whoever held it must not end the new session.
    const tablet = await sessions.create({ cart: [], name: 'tablet' }, { userId: user });
    const tabletRotated = await sessions.regenerate(tablet.id);
    expect(await sessions.destroy(tablet.id)).toBe(false);
    expect(await sessions.get(tabletRotated?.id ?? '')).not.toBeNull();
  });
});
