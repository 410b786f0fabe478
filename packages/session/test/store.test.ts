import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore, generateId, handleOf, type SessionStore } from '../src/index.ts';
import { hash, keyOf, keysUnder, noSession, pttl, serverNow, sleep, storedData } from './helpers.ts';

type Cart = { cart: string[]; name?: string; counter?: number; [field: string]: unknown };

describe.each(topologies())('session store on $name', ({ url }) => {
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

  it('creates 256-bit URL-safe ids and keeps only their SHA-256 in Redis', async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sessions.create({ cart: [`item${i}`] })),
    );
    const ids = created.map((s) => s.id);
    expect(new Set(ids).size).toBe(20);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    }
    const keys = await keysUnder(redis, prefix);
    for (const { id } of created) {
      expect(keys).toContain(keyOf(prefix, id));
      const stored = JSON.stringify(await hash(redis, keyOf(prefix, id)));
      expect(stored).toContain('item');
      for (const other of ids) expect(stored).not.toContain(other);
    }
    for (const key of keys) for (const id of ids) expect(key).not.toContain(id);
    const first = created[0];
    expect(first?.expiresAt).toBe((first?.createdAt ?? 0) + sessions.idleTtlMs);
    expect(first?.absoluteExpiresAt).toBe((first?.createdAt ?? 0) + sessions.absoluteTtlMs);
  });

  it('returns null for unknown ids, and for malformed ids without calling Redis', async () => {
    expect(await sessions.get(generateId())).toBeNull();
    // A store on a closed connection fails any Redis call: malformed ids must not get that far.
    const closed = await connect({ url });
    const offline = createSessionStore({ redis: closed, prefix });
    await closed.close();
    const valid = generateId();
    for (const id of [
      '',
      'short',
      'x'.repeat(43),
      `${valid.slice(0, 42)}+`,
      `${valid}A`,
      'a'.repeat(5000),
      handleOf(valid).replace(/.$/, '='),
    ]) {
      expect(await offline.get(id)).toBeNull();
      expect(await offline.touch(id)).toBe(false);
    }
    await expect(offline.get(valid)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(sessions.get(42 as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('slides the idle TTL on access and never past the absolute expiry (asserted with PTTL)', async () => {
    const short = store({ idleTtlMs: 10_000, absoluteTtlMs: 60_000, touchAfterMs: 0 });
    const { id } = await short.create({ cart: [] });
    const key = keyOf(prefix, id);
    expect(await pttl(redis, key)).toBeGreaterThan(9_000);
    // Pretend 7 s of idleness passed, then read: the TTL is back to the full idle timeout.
    await redis.send(['PEXPIRE', key, '3000'], { key });
    expect((await short.get(id))?.data.cart).toEqual([]);
    expect(await pttl(redis, key)).toBeGreaterThan(9_000);
    // 4 s before the absolute expiry a read can only extend the TTL to that expiry.
    const now = await serverNow(redis, key);
    await redis.send(['HSET', key, 'a', String(now + 4_000)], { key });
    const read = await short.get(id);
    expect(await pttl(redis, key)).toBeLessThanOrEqual(4_000);
    expect(await pttl(redis, key)).toBeGreaterThan(2_000);
    expect(read?.expiresAt).toBe(now + 4_000);
    // Past it, the session is gone however recently it was read.
    await redis.send(['HSET', key, 'a', String(now - 1)], { key });
    expect(await short.get(id)).toBeNull();
    expect(await redis.send(['EXISTS', key], { key })).toBe(0);
  });

  it('answers reads made in one tick (which share script calls) as it answers them one by one', async () => {
    const short = store({ idleTtlMs: 10_000, absoluteTtlMs: 60_000, touchAfterMs: 0 });
    const live = await Promise.all(Array.from({ length: 60 }, (_, i) => short.create({ cart: [`b${i}`] })));
    const destroyed = await short.create({ cart: ['gone'] });
    await short.destroy(destroyed.id);
    const ended = await short.create({ cart: ['ended'] });
    const endedKey = keyOf(prefix, ended.id);
    await redis.send(['HSET', endedKey, 'a', String((await serverNow(redis, endedKey)) - 1)], {
      key: endedKey,
    });
    for (const { id } of live)
      await redis.send(['PEXPIRE', keyOf(prefix, id), '3000'], { key: keyOf(prefix, id) });
    // Live sessions mixed with unknown, destroyed and past-absolute ones, all asked for at once.
    const ids = live.flatMap(({ id }, i) => (i % 20 === 0 ? [id, generateId()] : [id]));
    ids.splice(10, 0, destroyed.id);
    ids.splice(30, 0, ended.id);
    // And one whose key holds something else: its read fails, alone.
    const clobbered = generateId();
    await redis.send(['SET', keyOf(prefix, clobbered), 'x'], { key: keyOf(prefix, clobbered) });
    // In the middle of a call's reads: the ones after it still get their own replies.
    const asked = [...ids.slice(0, 15), clobbered, ...ids.slice(15)];
    const answers = await Promise.allSettled(asked.map((id) => short.get(id)));
    expect(answers[15]).toMatchObject({ status: 'rejected', reason: { message: /WRONGTYPE/ } });
    const settled = answers.filter((_, i) => i !== 15);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    const together = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    const oneByOne = [];
    for (const id of ids) oneByOne.push(await short.get(id));
    const seen = (s: Awaited<ReturnType<typeof short.get>> | undefined) =>
      s == null
        ? s
        : { id: s.id, data: s.data, createdAt: s.createdAt, absoluteExpiresAt: s.absoluteExpiresAt };
    expect(together.map(seen)).toEqual(oneByOne.map(seen));
    expect(together.filter((s) => s != null).map((s) => s.data.cart[0])).toEqual(live.map((_, i) => `b${i}`));
    for (const { id } of live) expect(await pttl(redis, keyOf(prefix, id))).toBeGreaterThan(9_000);
    expect(await redis.send(['EXISTS', endedKey], { key: endedKey })).toBe(0);
  });

  it('answers a read with any write to its session issued before it, even when reads share calls', async () => {
    const live = await Promise.all(
      Array.from({ length: 40 }, (_, i) => sessions.create({ cart: [`o${i}`] })),
    );
    for (let round = 1; round <= 10; round++) {
      // Not awaited: each update is on the wire before the reads of the same tick are batched.
      const updates = live.map(({ id }) => sessions.update(id, { counter: round }));
      const reads = await Promise.all(live.map(({ id }) => sessions.get(id)));
      expect(await Promise.all(updates)).toEqual(live.map(() => true));
      expect(reads.map((s) => s?.data.counter)).toEqual(live.map(() => round));
    }
  });

  it('keeps more reads of one session than fit one call in order with its writes', async () => {
    const busy = await sessions.create({ cart: [] });
    const others = await Promise.all(Array.from({ length: 10 }, () => sessions.create({ cart: [] })));
    for (let round = 1; round <= 5; round++) {
      const update = sessions.update(busy.id, { counter: round });
      // 60 reads of one session in one tick: more than one call holds (25), beside other sessions.
      const reads = await Promise.all([
        ...others.map(({ id }) => sessions.get(id)),
        ...Array.from({ length: 60 }, () => sessions.get(busy.id)),
      ]);
      expect(await update).toBe(true);
      expect(reads.slice(others.length).map((s) => s?.data.counter)).toEqual(
        Array.from({ length: 60 }, () => round),
      );
      expect(reads.slice(0, others.length).every((s) => s !== null)).toBe(true);
    }
  });

  it('skips the refresh write while the last refresh is younger than touchAfterMs', async () => {
    const lazy = store({ idleTtlMs: 600_000, touchAfterMs: 60_000 });
    const { id } = await lazy.create({ cart: [] });
    const key = keyOf(prefix, id);
    const before = await hash(redis, key);
    await redis.send(['PEXPIRE', key, '5000'], { key });
    expect(await lazy.get(id)).not.toBeNull();
    expect(await lazy.touch(id)).toBe(true);
    expect(await pttl(redis, key)).toBeLessThanOrEqual(5_000);
    expect((await hash(redis, key)).r).toBe(before.r);
    // Once the last refresh is older than touchAfterMs, the next read writes it.
    await redis.send(['HSET', key, 'r', String(Number(before.r) - 61_000)], { key });
    expect(await lazy.get(id)).not.toBeNull();
    expect(await pttl(redis, key)).toBeGreaterThan(590_000);
    expect(Number((await hash(redis, key)).r)).toBeGreaterThanOrEqual(Number(before.r));
  });

  it('keeps a busy session alive past its idle timeout but ends it at the absolute limit (real time)', async () => {
    const busy = store({ idleTtlMs: 1_000, absoluteTtlMs: 2_500, touchAfterMs: 0 });
    const started = performance.now();
    const { id } = await busy.create({ cart: [] });
    let lastAlive = 0;
    for (;;) {
      const session = await busy.get(id);
      const elapsed = performance.now() - started;
      if (session === null) break;
      lastAlive = elapsed;
      expect(elapsed).toBeLessThan(2_600); // never readable past absoluteTtlMs (plus clock slack)
      await sleep(100);
    }
    // Read every ~100 ms, it outlived the 1 s idle timeout; only the absolute limit ended it.
    expect(lastAlive).toBeGreaterThan(1_500);
  });

  it('lands all of 50 concurrent patches of different properties of one session', async () => {
    const { id } = await sessions.create({ cart: ['a'] });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => sessions.update(id, { [`f${i}`]: i })),
    );
    expect(results.every(Boolean)).toBe(true);
    const data = (await sessions.get(id))?.data;
    for (let i = 0; i < 50; i++) expect(data?.[`f${i}`]).toBe(i);
    expect(data?.cart).toEqual(['a']);
  });

  it('loses none of 50 concurrent read-modify-write updates of one property', async () => {
    const { id } = await sessions.create({ cart: [], counter: 0 });
    await Promise.all(
      Array.from({ length: 50 }, () =>
        sessions.update(id, (data) => ({ ...data, counter: (data.counter ?? 0) + 1 })),
      ),
    );
    expect((await sessions.get(id))?.data.counter).toBe(50);
    // A patch with undefined removes the property; the function form removes what it drops.
    await sessions.update(id, { name: 'x' });
    await sessions.update(id, { counter: undefined });
    await sessions.update(id, ({ name: _, ...rest }) => rest);
    expect((await sessions.get(id))?.data).toEqual({ cart: [] });
  });

  it('never brings back a destroyed or expired session (late touch, update or function update)', async () => {
    const { id } = await sessions.create({ cart: [] });
    const key = keyOf(prefix, id);
    expect(await sessions.destroy(id)).toBe(true);
    expect(await sessions.destroy(id)).toBe(false);
    expect(await sessions.update(id, { cart: ['late'] })).toBe(false);
    expect(await sessions.update(id, (d) => ({ ...d, cart: ['late'] }))).toBe(false);
    expect(await sessions.touch(id)).toBe(false);
    expect(await sessions.get(id)).toBeNull();
    // Only a tombstone is left, for at most the idle TTL: no data, and create() refuses the key.
    expect(await hash(redis, key)).toEqual({ x: '1' });
    expect(await pttl(redis, key)).toBeLessThanOrEqual(sessions.idleTtlMs);

    const expiring = await sessions.create({ cart: [] });
    const expiringKey = keyOf(prefix, expiring.id);
    await redis.send(['PEXPIRE', expiringKey, '1'], { key: expiringKey });
    await sleep(20);
    expect(await sessions.update(expiring.id, { cart: ['late'] })).toBe(false);
    expect(await sessions.touch(expiring.id)).toBe(false);
    expect(await redis.send(['EXISTS', expiringKey], { key: expiringKey })).toBe(0);

    // Updates racing a destroy: whatever their order, nothing is left afterwards.
    const raced = await sessions.create({ cart: [] });
    const racedKey = keyOf(prefix, raced.id);
    await Promise.all([
      ...Array.from({ length: 25 }, (_, i) => sessions.update(raced.id, { [`f${i}`]: i })),
      sessions.destroy(raced.id),
      ...Array.from({ length: 25 }, (_, i) => sessions.update(raced.id, { [`g${i}`]: i })),
      ...Array.from({ length: 10 }, () => sessions.touch(raced.id)),
    ]);
    expect(await noSession(redis, racedKey)).toBe(true);
  });

  it('regenerates under concurrent reads and writes: the old id never works again, no write is lost', async () => {
    const original = await sessions.create({ cart: ['book'], name: 'ann' });
    let regenerated = false;
    const lateReads: Array<Promise<unknown>> = [];
    const updates: Array<Promise<[string, boolean]>> = [];
    const reads = Array.from({ length: 200 }, async (_, i) => {
      await sleep(i % 20);
      if (i % 4 === 0)
        updates.push(sessions.update(original.id, { [`w${i}`]: i }).then((ok) => [`w${i}`, ok]));
      const after = regenerated;
      const session = await sessions.get(original.id);
      if (after) lateReads.push(Promise.resolve(session));
      return session;
    });
    await sleep(5);
    const moved = await sessions.regenerate(original.id);
    regenerated = true;
    for (let i = 0; i < 50; i++) lateReads.push(sessions.get(original.id));
    const seen = await Promise.all(reads);
    const written = await Promise.all(updates);

    expect(moved).not.toBeNull();
    expect(moved?.id).not.toBe(original.id);
    for (const late of await Promise.all(lateReads)) expect(late).toBeNull();
    // Reads before the move saw the session; no read ever saw a different one.
    for (const s of seen) if (s !== null) expect(s.data.name).toBe('ann');
    const data = (await sessions.get(moved?.id ?? ''))?.data;
    expect(data?.cart).toEqual(['book']);
    // Every update that reported success is in the moved session; every refused one is not.
    for (const [field, ok] of written) expect(data?.[field] !== undefined).toBe(ok);
    expect(moved?.createdAt).toBe(original.createdAt);
    expect(moved?.absoluteExpiresAt).toBe(original.absoluteExpiresAt);
    expect(await sessions.regenerate(original.id)).toBeNull();
    expect(await sessions.update(original.id, { cart: [] })).toBe(false);
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

  it('refuses bad input with a typed error and writes nothing', async () => {
    const own = uniquePrefix('session-bad');
    const strict = createSessionStore<Record<string, unknown>>({ redis, prefix: own, maxSizeBytes: 1_000 });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const badData = [
      null,
      [],
      'text',
      42,
      { big: 10n },
      { fn: () => 1 },
      circular,
      { huge: 'x'.repeat(2_000) },
    ];
    for (const data of badData) {
      await expect(strict.create(data as Record<string, unknown>)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    for (const userId of ['', 7, 'u'.repeat(2_000)]) {
      await expect(strict.create({}, { userId: userId as string })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    expect(await keysUnder(redis, own)).toEqual([]);

    const { id } = await strict.create({ text: 'x'.repeat(500) });
    const key = keyOf(own, id);
    const before = await hash(redis, key);
    const badIds = ['', 'short', 'x'.repeat(5_000), 42, null, undefined, {}] as unknown as string[];
    for (const bad of badIds) {
      await expect(strict.update(bad, { a: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(strict.destroy(bad)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(strict.regenerate(bad)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(strict.update(id, { more: 'y'.repeat(600) })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(strict.update(id, { big: 1n })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(strict.update(id, () => null as unknown as Record<string, unknown>)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(strict.destroyAllForUser('u', { except: 'nope' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await hash(redis, key)).toEqual(before);
    expect(await keysUnder(redis, own)).toEqual([key]);

    // Text Redis's JSON library cannot read back (a lone UTF-16 surrogate) is refused up front.
    await expect(strict.create({ '\ud800': 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(strict.update(id, { '\udfff': 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await hash(redis, key)).toEqual(before);
    expect(await keysUnder(redis, own)).toEqual([key]);
  });

  it('counts the size of data with slashes as Redis stores it, so what create accepted stays patchable', async () => {
    const own = uniquePrefix('session-size');
    const strict = createSessionStore<Record<string, unknown>>({ redis, prefix: own, maxSizeBytes: 1_000 });
    const { id } = await strict.create({ returnTo: '/a'.repeat(400) });
    expect(await strict.update(id, { n: 1 })).toBe(true);
    const stored = (await hash(redis, keyOf(own, id))).d ?? '';
    expect(Buffer.byteLength(stored)).toBe(
      JSON.stringify({ returnTo: JSON.stringify('/a'.repeat(400)), n: '1' }).length,
    );
    expect((await strict.get(id))?.data).toEqual({ returnTo: '/a'.repeat(400), n: 1 });
  });

  it('refuses bad options when the store is created', () => {
    const bad: Array<Record<string, unknown>> = [
      { idleTtlMs: 0 },
      { idleTtlMs: -1 },
      { idleTtlMs: 1.5 },
      { absoluteTtlMs: Number.NaN },
      { idleTtlMs: 1_000, touchAfterMs: 1_000 },
      { maxSizeBytes: 0 },
      { prefix: 'a{b}' },
      { serializer: {} },
    ];
    for (const options of bad) {
      expect(() => createSessionStore({ redis, ...options })).toThrow(InvalidArgumentError);
    }
    expect(() => createSessionStore({ redis: undefined as never })).toThrow(InvalidArgumentError);
  });

  it('stores data through a custom serializer, each property on its own, and keeps "__proto__" as data', async () => {
    const dates = store<{ at: Date; plain?: unknown }>({
      serializer: {
        stringify: (value) =>
          value instanceof Date ? `D${value.toISOString()}` : `J${JSON.stringify(value)}`,
        parse: (text) => (text.startsWith('D') ? new Date(text.slice(1)) : JSON.parse(text.slice(1))),
      },
    });
    const at = new Date('2030-01-02T03:04:05.000Z');
    const { id } = await dates.create({ at });
    expect((await dates.get(id))?.data.at).toEqual(at);
    expect((await storedData(redis, keyOf(prefix, id))).at).toBe(`D${at.toISOString()}`);
    await dates.update(id, JSON.parse('{"__proto__": {"polluted": true}}'));
    const data = (await dates.get(id))?.data as Record<string, unknown>;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(data).sort()).toEqual(['__proto__', 'at']);
  });
});
