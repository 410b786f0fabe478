import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClosedError,
  createLock,
  createLockInspector,
  createReadWriteLock,
  createSemaphore,
  type InspectedLock,
  InvalidArgumentError,
  type LockInspector,
  LockLostError,
} from '../src/index.ts';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** Resolves with the signal's reason once it aborts, or rejects after `ms`. */
function lossOf(signal: AbortSignal, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(signal.reason);
    const timer = setTimeout(() => reject(new Error(`signal not aborted within ${ms} ms`)), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(signal.reason);
    });
  });
}

/** Every page of the inspector's listing, with `count` names per page. */
async function listAll(inspector: LockInspector, count: number) {
  const pages: InspectedLock[][] = [];
  let cursor: string | undefined;
  do {
    const page = await inspector.list({ ...(cursor === undefined ? {} : { cursor }), count });
    pages.push(page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return pages;
}

describe.each(topologies())('lock inspector on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('inspect');
  const closers: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(thing: T): T => {
    closers.push(thing);
    return thing;
  };
  // Waiters rely on the release message: their fallback poll (5 s) is far beyond the tests' bounds.
  const slowPoll = { acquireTimeoutMs: 10_000, delayMs: 5_000, jitterMs: 0 };
  const lock = (options: Partial<Parameters<typeof createLock>[0]> = {}) =>
    track(createLock({ redis, prefix, retry: slowPoll, ...options }));
  const semaphore = (permits: number) =>
    track(createSemaphore({ redis, prefix, permits, ttlMs: 10_000, retry: slowPoll }));
  const rwLock = () => track(createReadWriteLock({ redis, prefix, ttlMs: 10_000, retry: slowPoll }));
  let inspector: LockInspector;

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
    inspector = track(createLockInspector({ redis, prefix }));
  });
  afterAll(async () => {
    for (const closer of closers) await closer.close();
    expect(unhandled).toEqual([]);
    await redis?.close();
  });

  it("reads a mutex's owner, fencing token and TTL, and the processes and fair callers waiting", async () => {
    const held = await lock({ ttlMs: 10_000 }).acquire('report');
    const other = lock({ ttlMs: 10_000 });
    const waiting = other.acquire('report');
    await sleep(150);
    const state = await inspector.get('report');
    expect(state).toMatchObject({ name: 'report', kind: 'mutex', holderCount: 1 });
    expect(state?.lastFencingToken).toBe(held.fencingToken);
    const [holder] = state?.holders ?? [];
    expect(holder?.fencingToken).toBe(held.fencingToken);
    expect(holder?.owner).toMatch(/^[0-9a-f-]{36}:\d+$/);
    expect(holder?.ttlMs).toBeGreaterThan(8_000);
    expect(holder?.ttlMs).toBeLessThanOrEqual(10_000);
    expect(state?.waiters.map((w) => w.kind)).toEqual(['process']);
    await held.release();
    await (await waiting).release();

    const fair = lock({ fair: true, ttlMs: 10_000 });
    const first = await fair.acquire('fifo');
    const second = fair.acquire('fifo');
    await sleep(50);
    const third = fair.acquire('fifo');
    await sleep(150);
    const queued = (await inspector.get('fifo'))?.waiters ?? [];
    expect(queued.map((w) => w.kind)).toEqual(['queued', 'queued']);
    expect(queued.every((w) => w.ttlMs > 0)).toBe(true);
    await first.release();
    await (await second).release();
    await (await third).release();
    expect(await inspector.get('fifo')).toBeNull();
  });

  it("reads each semaphore permit's slot, owner and TTL, and read/write holders and writer intents", async () => {
    const sem = semaphore(3);
    const permits = [await sem.acquire('pool'), await sem.acquire('pool')];
    const pool = await inspector.get('pool');
    expect(pool).toMatchObject({ kind: 'semaphore', holderCount: 2, waiters: [] });
    expect(pool?.holders.map((h) => h.slot).sort()).toEqual([0, 1]);
    expect(new Set(pool?.holders.map((h) => h.owner)).size).toBe(2);
    expect(pool?.lastFencingToken).toBe(Math.max(...permits.map((p) => p.fencingToken)));
    for (const permit of permits) await permit.release();

    const rw = rwLock();
    const readers = [await rw.acquireRead('doc'), await rw.acquireRead('doc')];
    const writing = rw.acquireWrite('doc');
    await sleep(150);
    const doc = await inspector.get('doc');
    expect(doc).toMatchObject({ kind: 'read-write', holderCount: 2 });
    expect(doc?.holders.map((h) => h.mode)).toEqual(['read', 'read']);
    expect(doc?.waiters.map((w) => w.kind)).toEqual(['writer']);
    for (const reader of readers) await reader.release();
    const writer = await writing;
    const written = await inspector.get('doc');
    expect(written?.holders).toMatchObject([{ mode: 'write' }]);
    expect(written?.waiters).toEqual([]);
    await writer.release();
  });

  it('reports only live permits and leaves expired ones in place: reading writes nothing', async () => {
    const key = `${prefix}{stale}`;
    const [seconds] = await redis.send<[string, string]>(['TIME'], { key });
    const past = String(Number(seconds) * 1000 - 60_000);
    const future = String(Number(seconds) * 1000 + 60_000);
    await redis.send(['ZADD', key, past, '0:dead-owner', future, '1:live-owner'], { key });
    const state = await inspector.get('stale');
    expect(state?.holders).toMatchObject([{ owner: 'live-owner', slot: 1 }]);
    expect(state?.holderCount).toBe(1);
    expect(await redis.send(['ZCARD', key], { key })).toBe(2);
    await redis.send(['DEL', key], { key });
  });

  it('lists every held name of every kind over several pages, and nothing of another prefix', async () => {
    const own = uniquePrefix('paged');
    // A prefix that starts with ours: its keys must not be mistaken for ours.
    const nested = `${own}nested:`;
    const mutexes = track(createLock({ redis, prefix: own, ttlMs: 10_000 }));
    const sems = track(createSemaphore({ redis, prefix: own, permits: 2, ttlMs: 10_000 }));
    const rw = track(createReadWriteLock({ redis, prefix: own, ttlMs: 10_000 }));
    const foreign = track(createLock({ redis, prefix: nested, ttlMs: 10_000 }));
    const held = [];
    for (let i = 0; i < 24; i++) held.push(await mutexes.acquire(`m${i}`));
    for (let i = 0; i < 5; i++) held.push(await sems.acquire(`s${i}`), await sems.acquire(`s${i}`));
    for (let i = 0; i < 4; i++) held.push(await rw.acquireRead(`r${i}`), await rw.acquireRead(`r${i}`));
    held.push(await rw.acquireWrite('w0'));
    for (let i = 0; i < 5; i++) held.push(await foreign.acquire(`m${i}`));
    await mutexes.acquire('gone').then((h) => h.release()); // leaves only its fencing counter

    const pages = await listAll(track(createLockInspector({ redis, prefix: own })), 7);
    expect(pages.length).toBeGreaterThan(4);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(7);
    const listed = pages.flat();
    const names = listed.map((l) => l.name).sort();
    const expected = [
      ...Array.from({ length: 24 }, (_, i) => `m${i}`),
      ...Array.from({ length: 5 }, (_, i) => `s${i}`),
      ...Array.from({ length: 4 }, (_, i) => `r${i}`),
      'w0',
    ].sort();
    expect(names).toEqual(expected);
    expect(listed.find((l) => l.name === 's3')).toMatchObject({ kind: 'semaphore', holderCount: 2 });
    expect(listed.find((l) => l.name === 'r1')).toMatchObject({ kind: 'read-write', holderCount: 2 });
    expect(listed.find((l) => l.name === 'w0')?.holders).toMatchObject([{ mode: 'write' }]);

    // The nested prefix's inspector sees its own five names only.
    const nestedNames = (await listAll(track(createLockInspector({ redis, prefix: nested })), 100)).flat();
    expect(nestedNames.map((l) => l.name).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    // Releasing a name under one prefix leaves the same name under the other alone.
    expect(await createLockInspector({ redis, prefix: own }).forceRelease('m0')).toBe(1);
    expect(await foreign.isLocked('m0')).toBe(true);
    for (const handle of held) await handle.release().catch(() => {});
  });

  it("force-releases a held mutex, wakes its waiter at once, and the holder's signal reports the loss", async () => {
    // Extended every second: the loss is noticed within one; the waiter's TTL poll is 3 s away.
    const holderLock = lock({ ttlMs: 3_000 });
    const held = await holderLock.acquire('stuck');
    const waiter = lock({ ttlMs: 10_000 }).acquire('stuck');
    await sleep(100);
    const releasedAt = performance.now();
    expect(await inspector.forceRelease('stuck')).toBe(1);
    const next = await waiter;
    expect(performance.now() - releasedAt).toBeLessThan(1_000); // woken, not its 5 s poll
    expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
    const reason = await lossOf(held.signal, 2_500);
    expect(reason).toBeInstanceOf(LockLostError);
    expect((reason as LockLostError).reason).toMatch(/^(expired|taken)$/);
    await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
    expect((await inspector.get('stuck'))?.holders[0]?.fencingToken).toBe(next.fencingToken);
    await next.release();
    expect(await inspector.forceRelease('stuck')).toBe(0);
  });

  it('tells a mutex holder that has extended since (its next check already armed) of the loss too', async () => {
    const held = await lock({ ttlMs: 600 }).acquire('extended');
    await sleep(450); // two extensions: the WATCH of the next one is armed on its connection
    expect(held.signal.aborted).toBe(false);
    expect(await inspector.forceRelease('extended')).toBe(1);
    const reason = await lossOf(held.signal, 1_500);
    expect(reason).toMatchObject({ name: 'LockLostError', reason: 'expired' });
    expect(await inspector.get('extended')).toBeNull();
  });

  it("force-releases every permit and reader, wakes the waiters, and every holder's signal fires", async () => {
    const sem = track(createSemaphore({ redis, prefix, permits: 2, ttlMs: 3_000, retry: slowPoll }));
    const permits = [await sem.acquire('jobs'), await sem.acquire('jobs')];
    const waiting = semaphore(2).acquire('jobs');
    await sleep(100);
    let releasedAt = performance.now();
    expect(await inspector.forceRelease('jobs')).toBe(2);
    const next = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(1_000);
    for (const permit of permits) expect(await lossOf(permit.signal, 2_500)).toBeInstanceOf(LockLostError);
    await next.release();

    const rw = track(createReadWriteLock({ redis, prefix, ttlMs: 3_000, retry: slowPoll }));
    const readers = [await rw.acquireRead('table'), await rw.acquireRead('table')];
    const writing = rwLock().acquireWrite('table');
    await sleep(100);
    releasedAt = performance.now();
    expect(await inspector.forceRelease('table')).toBe(2);
    const writer = await writing;
    expect(performance.now() - releasedAt).toBeLessThan(1_000);
    for (const reader of readers) expect(await lossOf(reader.signal, 2_500)).toBeInstanceOf(LockLostError);
    expect((await inspector.get('table'))?.holders).toMatchObject([{ mode: 'write' }]);
    await writer.release();
  });

  it('force-releases one holder only, and never a grant that is not that owner’s', async () => {
    const sem = track(createSemaphore({ redis, prefix, permits: 3, ttlMs: 600 }));
    const permits = [await sem.acquire('one'), await sem.acquire('one')];
    const before = await inspector.get('one');
    const victim = before?.holders.find((h) => h.slot === permits[0]?.slot);
    expect(await inspector.forceReleaseHolder('one', victim?.owner as string)).toBe(true);
    expect(await lossOf((permits[0] as { signal: AbortSignal }).signal, 2_000)).toBeInstanceOf(LockLostError);
    const after = await inspector.get('one');
    expect(after?.holders.map((h) => h.slot)).toEqual([permits[1]?.slot]);
    expect(permits[1]?.signal.aborted).toBe(false);
    expect(await inspector.forceReleaseHolder('one', victim?.owner as string)).toBe(false);
    await permits[1]?.release();

    const reader = await rwLock().acquireRead('rw-one');
    const readerOwner = (await inspector.get('rw-one'))?.holders[0]?.owner as string;
    expect(await inspector.forceReleaseHolder('rw-one', readerOwner)).toBe(true);
    expect(await inspector.get('rw-one')).toBeNull();
    await expect(reader.release()).rejects.toBeInstanceOf(LockLostError);

    const held = await lock({ ttlMs: 10_000 }).acquire('mine');
    expect(await inspector.forceReleaseHolder('mine', 'someone-else:1')).toBe(false);
    expect((await inspector.get('mine'))?.holders).toHaveLength(1);
    const owner = (await inspector.get('mine'))?.holders[0]?.owner as string;
    expect(await inspector.forceReleaseHolder('mine', owner)).toBe(true);
    await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
  });

  it('rejects bad input with InvalidArgumentError before sending anything', async () => {
    const held = await lock({ ttlMs: 10_000 }).acquire('kept');
    const bad: Array<() => Promise<unknown>> = [
      () => inspector.list({ count: 0 }),
      () => inspector.list({ count: 1_001 }),
      () => inspector.list({ count: 2.5 }),
      () => inspector.list({ cursor: 'not-a-cursor' }),
      () => inspector.list({ cursor: Buffer.from('{"phase":7}').toString('base64url') }),
      () => inspector.list(null as never),
      () => inspector.get(''),
      () => inspector.forceRelease(''),
      () => inspector.forceRelease(42 as never),
      () => inspector.forceReleaseHolder('kept', ''),
    ];
    for (const call of bad) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => createLockInspector({ redis, prefix: 'a{b' })).toThrow(InvalidArgumentError);
    expect(held.signal.aborted).toBe(false);
    expect((await inspector.get('kept'))?.holderCount).toBe(1);
    await held.release();
  });

  it('answers a ping, and refuses every call with ClosedError once closed', async () => {
    const closing = createLockInspector({ redis, prefix });
    expect(await closing.ping()).toBeGreaterThanOrEqual(0);
    await closing.close();
    await expect(closing.get('anything')).rejects.toBeInstanceOf(ClosedError);
    await expect(closing.list()).rejects.toBeInstanceOf(ClosedError);
    await expect(closing.forceRelease('anything')).rejects.toBeInstanceOf(ClosedError);
  });
});
