import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection, slotOf } from '@redis-patterns/connection';
import { seededRandom, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClosedError,
  createLock,
  type DistributedLock,
  InvalidArgumentError,
  LockLostError,
  type MultiLockHandle,
  TimeoutError,
} from '../src/index.ts';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

function lossOf(handle: MultiLockHandle): Promise<unknown> {
  return new Promise((resolve) => {
    if (handle.signal.aborted) resolve(handle.signal.reason);
    handle.signal.addEventListener('abort', () => resolve(handle.signal.reason), { once: true });
  });
}

describe.each(topologies())('acquireAll on $name', ({ name: topology, url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lock-multi');
  const opened: DistributedLock[] = [];
  const make = (options: Partial<Parameters<typeof createLock>[0]> = {}): DistributedLock => {
    const locks = createLock({
      redis,
      prefix,
      ttlMs: 5_000,
      retry: { acquireTimeoutMs: 10_000 },
      ...options,
    });
    opened.push(locks);
    return locks;
  };
  const lockedNames = async (locks: DistributedLock, names: string[]) => {
    const locked = await Promise.all(names.map((n) => locks.isLocked(n)));
    return names.filter((_, i) => locked[i]);
  };
  /** `names` sorted by the hash slot of their lock key: the order acquireAll takes Cluster groups in. */
  const bySlot = (names: string[]) =>
    [...names].sort((a, b) => slotOf(`${prefix}{${a}}`) - slotOf(`${prefix}{${b}}`));

  /** Script calls every node of the deployment has run so far (INFO commandstats). */
  const scriptCalls = async () => {
    // redis://host:port, or redis://a:1,b:2?cluster=true: every node, one at a time.
    const hosts = (url.replace(/^redis:\/\//, '').split(/[?/]/)[0] as string).split(',');
    let calls = 0;
    for (const host of hosts) {
      const node = await connect({ url: `redis://${host}` });
      const info = await node.send<string>(['INFO', 'commandstats']);
      for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) calls += Number(m[1]);
      await node.close();
    }
    return calls;
  };

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    expect(unhandled).toEqual([]);
    await redis?.close();
  });

  it('takes every name or none: refused while one is held, with nothing of the set left held', async () => {
    const locks = make();
    const rival = make();
    const names = ['all-a', 'all-b', 'all-c', 'all-d'];
    const blocker = await rival.acquire('all-c');
    expect(await locks.tryAcquireAll(names)).toBeNull();
    await expect(locks.acquireAll(names, { acquireTimeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await lockedNames(locks, names)).toEqual(['all-c']);
    await blocker.release();
    const held = (await locks.tryAcquireAll([...names].reverse())) as MultiLockHandle;
    expect([...held.names].sort()).toEqual(names);
    expect(await lockedNames(locks, names)).toEqual(names);
    // Each name has its own token, above the mutex grant of all-c before it.
    expect(held.fencingToken('all-c')).toBeGreaterThan(blocker.fencingToken);
    expect(() => held.fencingToken('other')).toThrow(InvalidArgumentError);
    expect(await rival.tryAcquire('all-a')).toBeNull();
    await held.release();
    expect(await lockedNames(locks, names)).toEqual([]);
  });

  it('never deadlocks and never gives a name to two holders: 24 callers, random subsets in random orders', async () => {
    const instances = [make(), make(), make()];
    const pool = ['dl-0', 'dl-1', 'dl-2', 'dl-3', 'dl-4', 'dl-5'];
    const random = seededRandom(7);
    const inside = new Map<string, number>();
    let overlaps = 0;
    let sections = 0;
    const lastToken = new Map<string, number>();
    let tokenRegressions = 0;
    await Promise.all(
      Array.from({ length: 24 }, async (_, caller) => {
        const locks = instances[caller % instances.length] as DistributedLock;
        for (let i = 0; i < 8; i++) {
          const subset = pool.filter(() => random() < 0.5);
          if (subset.length === 0) subset.push(pool[caller % pool.length] as string);
          subset.sort(() => random() - 0.5);
          await locks.withLocks(subset, async (_signal, handle) => {
            for (const n of subset) {
              if ((inside.get(n) ?? 0) > 0) overlaps++;
              inside.set(n, (inside.get(n) ?? 0) + 1);
              if (handle.fencingToken(n) <= (lastToken.get(n) ?? 0)) tokenRegressions++;
              lastToken.set(n, handle.fencingToken(n));
            }
            await redis.send(['PING']);
            for (const n of subset) inside.set(n, (inside.get(n) ?? 0) - 1);
            sections++;
          });
        }
      }),
    );
    expect(overlaps).toBe(0);
    expect(tokenRegressions).toBe(0);
    expect(sections).toBe(24 * 8);
    expect(await lockedNames(instances[0] as DistributedLock, pool)).toEqual([]);
  });

  it('wakes a waiter when the name it lacks is released, without waiting for a poll', async () => {
    const holder = make();
    const waiter = make({ retry: { acquireTimeoutMs: 10_000, delayMs: 10_000, jitterMs: 0 } });
    const held = await holder.acquire('wake-b');
    const waiting = waiter.acquireAll(['wake-a', 'wake-b']);
    await sleep(300); // subscribed, refused, asleep for 10 s unless woken
    const released = performance.now();
    await held.release();
    const all = await waiting;
    expect(performance.now() - released).toBeLessThan(2_000);
    expect(all.fencingToken('wake-b')).toBeGreaterThan(held.fencingToken);
    await all.release();
  });

  it('serves waiting callers of one process in arrival order, one attempt per release, not a herd', async () => {
    const holder = make();
    const locks = make();
    // On Cluster each name is a group of its own; with line-q's slot first in every caller's
    // order, a caller stands in line (or is refused) at its first step, in call order.
    const q = bySlot(Array.from({ length: 50 }, (_, i) => `line-q${i}`))[0] as string;
    const slot = (n: string) => slotOf(`${prefix}{${n}}`);
    const others = Array.from({ length: 200 }, (_, i) => `line-x${i}`).filter((n) => slot(n) > slot(q));
    const blocker = await holder.acquire(q);
    const order: number[] = [];
    const callers: Array<Promise<void>> = [];
    const scriptsBefore = await scriptCalls();
    for (let i = 0; i < 20; i++) {
      callers.push(
        locks.withLocks([q, others[i] as string], () => {
          order.push(i);
        }),
      );
      await sleep(10); // each call stands in line from the moment it is made (test/multi-order.test.ts)
    }
    await blocker.release();
    await Promise.all(callers);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // 20 grants and 20 releases (a script per group: twice that on Cluster), plus a few refusals
    // of the oldest caller. If every release woke every waiting caller to try, it would be about
    // 20 + 19 + ... + 1 = 210 attempts more.
    expect((await scriptCalls()) - scriptsBefore).toBeLessThan(150);
  });

  it('times out leaving nothing held, also the groups it took while waiting for a later one', async () => {
    const locks = make();
    const rival = make();
    const names = bySlot(['to-a', 'to-b', 'to-c', 'to-d', 'to-e']);
    const last = names.at(-1) as string;
    const blocker = await rival.acquire(last);
    const started = performance.now();
    const waiting = locks.acquireAll(names, { acquireTimeoutMs: 600 }).catch((err: unknown) => err);
    await sleep(300);
    // On Cluster the earlier slots' groups are held while it waits for the last one (ordered
    // hold-and-wait); on one server the single script takes nothing until it can take all.
    const during = await lockedNames(locks, names);
    if (topology === 'cluster') expect(during.length).toBeGreaterThan(1);
    else expect(during).toEqual([last]);
    const error = await waiting;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(performance.now() - started).toBeLessThan(1_500);
    await sleep(100); // the release of the partial grants is on its way
    expect(await lockedNames(locks, names)).toEqual([last]);
    await blocker.release();
  });

  it('an abort rejects with the reason at once and leaves nothing held', async () => {
    const locks = make();
    const rival = make();
    const names = bySlot(['ab-a', 'ab-b', 'ab-c']);
    const blocker = await rival.acquire(names.at(-1) as string);
    const controller = new AbortController();
    const waiting = locks.acquireAll(names, { signal: controller.signal }).catch((err: unknown) => err);
    await sleep(200);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await waiting).toBe(reason);
    await sleep(100);
    expect(await lockedNames(locks, names)).toEqual([names.at(-1)]);
    await blocker.release();
  });

  it('close() rejects a waiting acquireAll with ClosedError and leaves nothing held', async () => {
    const locks = createLock({ redis, prefix, ttlMs: 5_000 });
    const rival = make();
    const names = bySlot(['cl-a', 'cl-b', 'cl-c']);
    const blocker = await rival.acquire(names.at(-1) as string);
    const waiting = locks.acquireAll(names).catch((err: unknown) => err);
    await sleep(200);
    await locks.close();
    expect(await waiting).toBeInstanceOf(ClosedError);
    await sleep(100);
    expect(await lockedNames(rival, names)).toEqual([names.at(-1)]);
    await expect(locks.acquireAll(names)).rejects.toBeInstanceOf(ClosedError);
    await blocker.release();
  });

  it('keeps every name through a hold 4x its TTL, and signals the first name lost', async () => {
    const locks = make({ ttlMs: 300 });
    const rival = make();
    const names = ['ext-a', 'ext-b', 'ext-c'];
    const held = await locks.acquireAll(names);
    for (const until = performance.now() + 1_200; performance.now() < until; await sleep(100)) {
      expect(await rival.tryAcquireAll(['ext-a'])).toBeNull();
      expect(await rival.tryAcquire('ext-c')).toBeNull();
    }
    expect(held.signal.aborted).toBe(false);
    expect(held.expiresAt).toBeGreaterThan(Date.now());
    const lost = lossOf(held);
    await rival.forceRelease('ext-b');
    const reason = (await lost) as LockLostError;
    expect(reason).toBeInstanceOf(LockLostError);
    expect(reason.lockName).toBe('ext-b');
    expect(reason.reason).toBe('expired');
    // The release reports the loss and still frees the names that were ours.
    await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
    expect(await lockedNames(locks, names)).toEqual([]);
  });

  it('withLocks fails when a name was lost during fn, and releases all names when fn throws', async () => {
    const locks = make({ ttlMs: 300 });
    const rival = make();
    const lostRun = locks.withLocks(['wl-a', 'wl-b'], async (signal) => {
      await rival.forceRelease('wl-a');
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return 'done';
    });
    await expect(lostRun).rejects.toBeInstanceOf(LockLostError);
    const thrown = locks.withLocks(['wl-a', 'wl-b'], () => {
      throw new Error('boom');
    });
    await expect(thrown).rejects.toThrow('boom');
    expect(await lockedNames(locks, ['wl-a', 'wl-b'])).toEqual([]);
  });

  it('rejects bad input with InvalidArgumentError before writing anything', async () => {
    const locks = make();
    await expect(locks.acquireAll([])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(locks.acquireAll(['bad-a', ''])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(locks.acquireAll('bad-a' as unknown as string[])).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(locks.acquireAll(['bad-a'], { ttlMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(locks.withLocks(['bad-a'], 'fn' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(make({ fair: true }).acquireAll(['bad-a'])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await lockedNames(locks, ['bad-a'])).toEqual([]);
  });
});
