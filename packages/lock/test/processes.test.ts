import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock, type DistributedLock, LockLostError } from '../src/index.ts';
import { assertBuilt, type Fixture, spawnFixture } from './children.ts';

// Children import the built package (test/fixtures/*.mjs -> packages/lock/dist).
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

describe.each(topologies())('lock across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lock-proc');
  const children: Fixture[] = [];
  const spawn = (file: string, args: Record<string, unknown>) => {
    const child = spawnFixture(file, { url, prefix, ...args });
    children.push(child);
    return child;
  };
  const make = (options: Partial<Parameters<typeof createLock>[0]> = {}): DistributedLock =>
    createLock({ redis, prefix, ...options });

  beforeAll(async () => {
    assertBuilt();
    redis = await connect({ url });
  });
  afterAll(async () => {
    for (const child of children) child.process.kill('SIGKILL');
    expect(unhandled).toEqual([]);
    await redis?.close();
  });

  it('runs 20 contenders x 200 increments across 4 processes: exact count, one holder at a time, tokens rising in grant order', async () => {
    const name = 'shared';
    const workers = Array.from({ length: 4 }, () =>
      spawn('contender.mjs', { name, contenders: 5, increments: 200, ttlMs: 5_000 }),
    );
    const results = await Promise.all(workers.map((w) => w.next((line) => 'overlaps' in line, 55_000)));
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0, 0]);
    expect(results.map((r) => r.overlaps)).toEqual([0, 0, 0, 0]);
    const key = (part: string) => `${prefix}{${name}}:${part}`;
    expect(await redis.send(['GET', key('counter')], { key: key('counter') })).toBe('4000');
    // RPUSHed inside the critical sections, so the list is in grant order.
    const grants = (
      await redis.send<string[]>(['LRANGE', key('grants'), '0', '-1'], { key: key('grants') })
    ).map(Number);
    expect(grants).toHaveLength(4000);
    const outOfOrder = grants.filter((token, i) => i > 0 && token <= (grants[i - 1] as number));
    expect(outOfOrder).toEqual([]);
  });

  it('frees the lock of a holder killed with SIGKILL after its TTL, with a larger token for the next holder', async () => {
    const ttlMs = 1_000;
    const holder = spawn('holder.mjs', { name: 'killed', ttlMs, holdMs: 30_000, timeoutMs: 10_000 });
    const acquired = await holder.next((line) => line.event === 'acquired', 20_000);
    holder.process.kill('SIGKILL');
    await holder.exited;
    const killedAt = performance.now();
    const locks = make({ retry: { timeoutMs: 10_000 } });
    expect(await locks.isLocked('killed')).toBe(true); // the dead holder's grant is still in Redis...
    const next = await locks.acquire('killed');
    const waitedMs = performance.now() - killedAt;
    // ...until its TTL runs out (extended every ttl/3, so at most ttlMs after the kill; slack for load).
    expect(waitedMs).toBeLessThan(ttlMs + 1_500);
    expect(next.fencingToken).toBeGreaterThan(acquired.token as number);
    await next.release();
    await locks.close();
  });

  it('aborts a paused holder (event loop blocked past its TTL); its release reports the loss and keeps the new owner’s lock', async () => {
    const locks = make({ ttlMs: 500 });
    const held = await locks.acquire('paused');
    // closeLock false: the child never calls close(), and must exit by itself all the same.
    const child = spawn('holder.mjs', {
      name: 'paused',
      ttlMs: 10_000,
      holdMs: 3_000,
      timeoutMs: 20_000,
      closeLock: false,
    });
    await child.next((line) => line.event === 'waiting', 20_000);
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      // Blocked: no timer, no extension, no I/O of this process runs. The TTL (500 ms) runs out.
    }
    const reason = await new Promise((resolve) => {
      if (held.signal.aborted) resolve(held.signal.reason);
      held.signal.addEventListener('abort', () => resolve(held.signal.reason), { once: true });
    });
    expect(reason).toBeInstanceOf(LockLostError);
    const taken = await child.next((line) => line.event === 'acquired', 10_000);
    expect(taken.token as number).toBeGreaterThan(held.fencingToken);
    const error = await held.release().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LockLostError);
    expect(await locks.isLocked('paused')).toBe(true); // the child's lock survived our release
    await child.next((line) => line.event === 'released', 10_000);
    expect(await child.exited).toBe(0);
    await locks.close();
  });
});
