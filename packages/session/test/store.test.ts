import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore, generateId, handleOf, type SessionStore } from '../src/index.ts';
import { hash, keyOf, keysUnder, noSession, pttl, serverNow, sleep } from './helpers.ts';

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
});
