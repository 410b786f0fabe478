import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSemaphore,
  type DistributedSemaphore,
  InvalidArgumentError,
  LockLostError,
  type SemaphorePermit,
  TimeoutError,
} from '../src/index.ts';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

describe.each(topologies())('semaphore on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('sem');
  const opened: DistributedSemaphore[] = [];
  const make = (options: Partial<Parameters<typeof createSemaphore>[0]> = {}): DistributedSemaphore => {
    const semaphore = createSemaphore({ redis, prefix, retry: { acquireTimeoutMs: 10_000 }, ...options });
    opened.push(semaphore);
    return semaphore;
  };
  const holdersKey = (name: string) => `${prefix}{${name}}`;
  const members = (name: string) =>
    redis.send<string[]>(['ZRANGE', holdersKey(name), '0', '-1'], { key: holdersKey(name) });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    for (const semaphore of opened) await semaphore.close();
    expect(unhandled).toEqual([]);
    await redis?.close();
  });

  it('admits at most 3 of 20 contenders at once, each in a distinct slot below 3, with unique rising tokens', async () => {
    const semaphore = make({ permits: 3, ttlMs: 5_000 });
    let inside = 0;
    let most = 0;
    const slotsInside = new Set<number>();
    let slotClashes = 0;
    const tokens: number[] = [];
    const bySlot = new Map<number, number[]>();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 5; i++) {
          await semaphore.withPermit('pool', async (_signal, permit) => {
            most = Math.max(most, ++inside);
            if (slotsInside.has(permit.slot)) slotClashes++;
            slotsInside.add(permit.slot);
            tokens.push(permit.fencingToken);
            bySlot.set(permit.slot, [...(bySlot.get(permit.slot) ?? []), permit.fencingToken]);
            await redis.send(['PING']);
            slotsInside.delete(permit.slot);
            inside--;
          });
        }
      }),
    );
    expect(most).toBe(3);
    expect(slotClashes).toBe(0);
    expect(new Set(tokens).size).toBe(100);
    expect([...bySlot.keys()].sort()).toEqual([0, 1, 2]);
    // A slot's holders follow one another, so its tokens rise in the order they held it.
    for (const list of bySlot.values())
      for (let i = 1; i < list.length; i++) expect(list[i]).toBeGreaterThan(list[i - 1] as number);
    expect(await semaphore.holders('pool')).toBe(0);
  });

  it('wakes a waiter as soon as a permit is released, long before its next poll', async () => {
    const semaphore = make({ permits: 1, retry: { acquireTimeoutMs: 10_000, delayMs: 5_000, jitterMs: 0 } });
    const held = await semaphore.acquire('wake');
    const waiting = semaphore.acquire('wake');
    await sleep(300); // the waiter has tried and is asleep until its 5 s poll
    const releasedAt = performance.now();
    await held.release();
    const next = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(1_000);
    expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
    await next.release();
  });

  it('frees the permit of a holder that stopped extending at its TTL: the waiter gets it, the old holder learns it lost it', async () => {
    const semaphore = make({ permits: 1, ttlMs: 400, autoExtend: false });
    const stale = await semaphore.acquire('expiry');
    const lost = new Promise((resolve) =>
      stale.signal.addEventListener('abort', () => resolve(stale.signal.reason)),
    );
    const started = performance.now();
    const next = await semaphore.acquire('expiry', { acquireTimeoutMs: 5_000 });
    expect(performance.now() - started).toBeGreaterThan(250);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(next.slot).toBe(stale.slot);
    expect(next.fencingToken).toBeGreaterThan(stale.fencingToken);
    expect(await lost).toBeInstanceOf(LockLostError);
    const error = await stale.release().catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'LockLostError', reason: 'expired' });
    expect(await semaphore.holders('expiry')).toBe(1); // the stale release left the new holder alone
    await next.release();
  });

  it('keeps permits held while extended past their TTL', async () => {
    const semaphore = make({ permits: 1, ttlMs: 300 });
    const held = await semaphore.acquire('extended');
    await sleep(1_000);
    expect(held.signal.aborted).toBe(false);
    expect(await semaphore.tryAcquire('extended')).toBeNull();
    await held.release();
    expect(await semaphore.holders('extended')).toBe(0);
  });

  it('checks each caller against its own limit: a smaller N waits for holders to drop below it, a larger N gets in', async () => {
    const semaphore = make({ ttlMs: 5_000 });
    const three = await Promise.all([0, 1, 2].map(() => semaphore.acquire('resize', { permits: 3 })));
    expect(await semaphore.tryAcquire('resize', { permits: 2 })).toBeNull();
    const fourth = await semaphore.tryAcquire('resize', { permits: 4 });
    expect(fourth?.slot).toBe(3);
    const small = semaphore.acquire('resize', { permits: 2 });
    await (fourth as SemaphorePermit).release();
    await (three[0] as SemaphorePermit).release();
    expect(await Promise.race([small.then(() => 'granted'), sleep(300, 'waiting')])).toBe('waiting');
    await (three[1] as SemaphorePermit).release(); // 1 holder left: below 2
    const granted = await small;
    expect(granted.slot).toBeLessThan(2);
    await Promise.all([granted.release(), (three[2] as SemaphorePermit).release()]);
  });

  it('rejects bad input with InvalidArgumentError before writing anything', async () => {
    const semaphore = make();
    const name = 'invalid';
    for (const options of [
      {},
      { permits: 0 },
      { permits: 1.5 },
      { permits: 2, ttlMs: -1 },
      { permits: 2, acquireTimeoutMs: Number.NaN },
    ]) {
      await expect(semaphore.acquire(name, options)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(semaphore.tryAcquire(name, null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(semaphore.withPermit(name, 'x' as never, { permits: 1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(() => createSemaphore({ redis, permits: -2 })).toThrow(InvalidArgumentError);
    expect(() => createSemaphore(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => createSemaphore({ redis, fair: true } as never)).toThrow(InvalidArgumentError);
    expect(() => createSemaphore({ redis, durability: { replicas: 1 } } as never)).toThrow(
      InvalidArgumentError,
    );
    expect(await members(name)).toEqual([]);
  });

  it('ends a wait at acquireTimeoutMs with TimeoutError, and at abort with the signal reason, leaving no permit behind', async () => {
    const semaphore = make({ permits: 1, ttlMs: 5_000 });
    const held = await semaphore.acquire('bounded');
    const started = performance.now();
    await expect(semaphore.acquire('bounded', { acquireTimeoutMs: 300 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
    expect(performance.now() - started).toBeLessThan(1_000);
    const controller = new AbortController();
    const aborted = semaphore.acquire('bounded', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 100);
    await expect(aborted).rejects.toThrow('stop');
    await held.release();
    expect(await members('bounded')).toEqual([]);
  });

  it('rejects withPermit with LockLostError when the permit was lost while fn ran', async () => {
    const semaphore = make({ permits: 1, ttlMs: 300 });
    const error = await semaphore
      .withPermit('lost', async () => sleep(700), { autoExtend: false })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LockLostError);
  });
});
