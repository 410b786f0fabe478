import { connect, InvalidArgumentError, type RedisConnection, slotOf } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSessionInspector,
  createSessionStore,
  generateId,
  handleOf,
  type InspectedSession,
  type SessionInspector,
} from '../src/index.ts';
import { hash, keyOf, pttl, sleep } from './helpers.ts';

type Data = { cart: string[]; secret?: string };

/** Every page of a listing; fails if a page holds more than `count` items. */
async function listAll(
  page: (cursor: string | undefined) => Promise<{ items: InspectedSession[]; cursor: string | undefined }>,
  count = 100,
) {
  const items: InspectedSession[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const next = await page(cursor);
    expect(next.items.length).toBeLessThanOrEqual(count);
    items.push(...next.items);
    cursor = next.cursor;
    pages++;
  } while (cursor !== undefined && pages < 1000);
  return { items, pages };
}

describe.each(topologies())('session inspector on $name', ({ name, url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('session-inspect');
  const indexKey = (userId: string) => `${prefix}{user:${userId}}`;
  const store = () => createSessionStore<Data>({ redis, prefix });
  let inspector: SessionInspector;

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
    inspector = createSessionInspector({ redis, prefix });
  });
  afterAll(async () => {
    await inspector?.close();
    await redis?.close();
  });

  it('lists every live session over several pages with user, TTL and size, never the data', async () => {
    const sessions = store();
    const listPrefix = uniquePrefix('session-inspect-list');
    const listed = createSessionStore<Data>({ redis, prefix: listPrefix });
    const listing = createSessionInspector({ redis, prefix: listPrefix });
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        listed.create({ cart: [`item${i}`], secret: 'hunter2' }, i % 3 === 0 ? { userId: `u${i}` } : {}),
      ),
    );
    const gone = await listed.create({ cart: [] });
    await listed.destroy(gone.id); // leaves a tombstone hash, which is no session
    const { items, pages } = await listAll(
      (cursor) => listing.listSessions(cursor === undefined ? { count: 7 } : { cursor, count: 7 }),
      7,
    );
    expect(pages).toBeGreaterThan(1);
    expect(items.map((s) => s.handle).sort()).toEqual(created.map((s) => handleOf(s.id)).sort());
    expect(JSON.stringify(items)).not.toContain('hunter2');
    // Pages of one: a SCAN reply holding more keys carries the rest in the cursor, none lost or repeated.
    const single = await listAll(
      (cursor) => listing.listSessions(cursor === undefined ? { count: 1 } : { cursor, count: 1 }),
      1,
    );
    expect(single.items.map((s) => s.handle).sort()).toEqual(created.map((s) => handleOf(s.id)).sort());
    for (const s of created) {
      const item = items.find((i) => i.handle === handleOf(s.id)) as InspectedSession;
      expect(item.userId).toBe(s.userId);
      expect(item.indexed).toBe(s.userId === undefined ? undefined : true);
      expect(item.ttlMs).toBeGreaterThan(sessions.idleTtlMs - 60_000);
      expect(item.ttlMs).toBeLessThanOrEqual(sessions.idleTtlMs);
      expect(item.dataBytes).toBe(Buffer.byteLength((await hash(redis, keyOf(listPrefix, s.id))).d ?? ''));
      expect(item.createdAt).toBe(s.createdAt);
      expect(item.absoluteExpiresAt).toBe(s.absoluteExpiresAt);
    }
    if (name === 'cluster') {
      // Keys spread over the masters: the pages crossed from one master to the next.
      const slots = new Set(created.map((s) => Math.floor(slotOf(keyOf(listPrefix, s.id)) / 5462)));
      expect(slots.size).toBe(3);
    }
    await listing.close();
  });

  it('does not refresh a session by listing or getting it', async () => {
    const sessions = store();
    const { id } = await sessions.create({ cart: [] });
    const key = keyOf(prefix, id);
    await redis.send(['PEXPIRE', key, '20000'], { key });
    await listAll((cursor) => inspector.listSessions(cursor === undefined ? {} : { cursor }));
    const got = await inspector.get(handleOf(id));
    expect(got?.ttlMs).toBeLessThanOrEqual(20_000);
    expect(await pttl(redis, key)).toBeLessThanOrEqual(20_000);
  });

  it('returns the data only from get(handle), as the serializer stored it', async () => {
    const { id } = await store().create({ cart: ['book'], secret: 's3' }, { userId: 'getter' });
    const got = await inspector.get(handleOf(id));
    expect(got).toMatchObject({ handle: handleOf(id), userId: 'getter', indexed: true });
    expect(got?.data).toEqual({ cart: '["book"]', secret: '"s3"' });
    expect(await inspector.get(handleOf(generateId()))).toBeNull();
  });

  it('lists a user from the index a page at a time, and shows unindexed sessions as indexed: false', async () => {
    const sessions = store();
    const mine = await Promise.all(
      Array.from({ length: 5 }, () => sessions.create({ cart: [] }, { userId: 'ann' })),
    );
    await sessions.create({ cart: [] }, { userId: 'bob' });
    // A session bound before the index existed: its `u` field is set, the index lacks it.
    const legacy = await sessions.create({ cart: [] }, { userId: 'ann' });
    await redis.send(['ZREM', indexKey('ann'), handleOf(legacy.id)], { key: indexKey('ann') });

    const { items, pages } = await listAll(
      (cursor) => inspector.listForUser('ann', cursor === undefined ? { count: 2 } : { cursor, count: 2 }),
      2,
    );
    expect(pages).toBe(3);
    expect(items.map((s) => s.handle).sort()).toEqual(mine.map((s) => handleOf(s.id)).sort());
    expect(items.every((s) => s.userId === 'ann' && s.indexed === true)).toBe(true);

    const all = await listAll((cursor) => inspector.listSessions(cursor === undefined ? {} : { cursor }));
    expect(all.items.find((s) => s.handle === handleOf(legacy.id))).toMatchObject({
      userId: 'ann',
      indexed: false,
    });
    // revoke(handle) reaches it; revokeUser, which goes by the index, would not.
    expect(await inspector.revoke(handleOf(legacy.id))).toBe(true);
    expect(await sessions.get(legacy.id)).toBeNull();
  });

  it('revoke ends one session (following a regenerate) and keeps the user index consistent', async () => {
    const sessions = store();
    const before = await sessions.create({ cart: [] }, { userId: 'cat' });
    const after = await sessions.regenerate(before.id, { userId: 'cat' });
    expect(after).not.toBeNull();
    // A handle read before the move still ends the moved session.
    expect(await inspector.revoke(handleOf(before.id))).toBe(true);
    expect(await sessions.get(after?.id as string)).toBeNull();
    const other = await sessions.create({ cart: [] }, { userId: 'cat' });
    expect(await inspector.revoke(handleOf(other.id))).toBe(true);
    expect(await inspector.revoke(handleOf(other.id))).toBe(false);
    expect(await sessions.get(other.id)).toBeNull();
    for (
      let i = 0;
      i < 50 && (await redis.send(['ZCARD', indexKey('cat')], { key: indexKey('cat') })) !== 0;
      i++
    )
      await sleep(10);
    expect(await redis.send(['ZCARD', indexKey('cat')], { key: indexKey('cat') })).toBe(0);
    expect(await sessions.listForUser('cat')).toEqual([]);
  });

  it('revokeUser ends the indexed sessions of one user under this prefix only, and says which', async () => {
    const sessions = store();
    const otherPrefix = uniquePrefix('session-inspect-other');
    const others = createSessionStore<Data>({ redis, prefix: otherPrefix });
    const dan = await Promise.all(
      Array.from({ length: 4 }, () => sessions.create({ cart: [] }, { userId: 'dan' })),
    );
    const eve = await sessions.create({ cart: [] }, { userId: 'eve' });
    const elsewhere = await others.create({ cart: [] }, { userId: 'dan' });

    const result = await inspector.revokeUser('dan');
    expect(result.revoked).toBe(4);
    expect(result.handles.sort()).toEqual(dan.map((s) => handleOf(s.id)).sort());
    for (const s of dan) expect(await sessions.get(s.id)).toBeNull();
    expect(await sessions.get(eve.id)).not.toBeNull();
    expect(await others.get(elsewhere.id)).not.toBeNull();
    expect(await inspector.revokeUser('dan')).toEqual({ revoked: 0, handles: [] });

    const foreign = await listAll((cursor) => inspector.listSessions(cursor === undefined ? {} : { cursor }));
    expect(foreign.items.some((s) => s.handle === handleOf(elsewhere.id))).toBe(false);
    expect(await inspector.get(handleOf(elsewhere.id))).toBeNull();
    expect(await inspector.revoke(handleOf(elsewhere.id))).toBe(false);
    expect(await others.get(elsewhere.id)).not.toBeNull();
  });

  it('rejects bad input with InvalidArgumentError before sending anything', async () => {
    // On a closed connection any command fails with ClosedError: these never get that far.
    const closed = await connect({ url });
    const offline = createSessionInspector({ redis: closed, prefix });
    await closed.close();
    const bad: Array<() => Promise<unknown>> = [
      () => offline.listSessions({ count: 0 }),
      () => offline.listSessions({ count: 1001 }),
      () => offline.listSessions({ count: 1.5 }),
      () => offline.listSessions({ cursor: 'not a cursor' }),
      () => offline.listSessions(null as never),
      () => offline.listForUser(''),
      () => offline.listForUser('u', { cursor: '-1' }),
      () => offline.get('short'),
      () => offline.get(42 as never),
      () => offline.revoke('x'.repeat(44)),
      () => offline.revokeUser(''),
    ];
    for (const call of bad) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(offline.listSessions()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => createSessionInspector({ redis, prefix: 'a{b' })).toThrow(InvalidArgumentError);
  });
});
