import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock, type DistributedLock, type LockHandle, LockLostError } from '../src/index.ts';

// Anything thrown in the background (a failed extension, a hand-over) must reach the caller as a
// rejection or a signal, never the process: every test below runs under this listener.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

describe.each(topologies())('lock API on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lock');
  const make = (options: Partial<Parameters<typeof createLock>[0]> = {}): DistributedLock =>
    createLock({ redis, prefix, retry: { acquireTimeoutMs: 10_000 }, ...options });
  const get = (key: string) => redis.send<string | null>(['GET', key], { key });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    expect(unhandled).toEqual([]);
    await redis?.close();
  });

  it('rejects a cancelled wait promptly with AbortError and leaves no lock behind', async () => {
    const locks = make({ ttlMs: 10_000 });
    const other = make({ ttlMs: 10_000 });
    const held = await locks.acquire('abort');
    const controller = new AbortController();
    const waiting = other.acquire('abort', { signal: controller.signal });
    await sleep(150);
    const aborted = performance.now();
    controller.abort();
    const error = await waiting.catch((err: unknown) => err);
    expect((error as Error).name).toBe('AbortError');
    expect(performance.now() - aborted).toBeLessThan(500);
    await held.release();
    await sleep(100);
    expect(await locks.isLocked('abort')).toBe(false);
    const already = new AbortController();
    already.abort(new Error('stop'));
    await expect(other.acquire('abort', { signal: already.signal })).rejects.toThrow('stop');
    expect(await locks.isLocked('abort')).toBe(false);
    await Promise.all([locks.close(), other.close()]);
  });

  it('rejects with TimeoutError at the deadline, and at once with acquireTimeoutMs 0', async () => {
    const locks = make({ ttlMs: 10_000 });
    const held = await locks.acquire('deadline');
    const started = performance.now();
    const error = await locks.acquire('deadline', { acquireTimeoutMs: 300 }).catch((err: unknown) => err);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(300);
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(1_500);
    await expect(locks.acquire('deadline', { acquireTimeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError);
    // The option's old name is refused, naming the new one, rather than silently ignored.
    await expect(locks.acquire('deadline', { timeoutMs: 0 } as never)).rejects.toMatchObject({
      argument: 'timeoutMs',
      message: expect.stringContaining('acquireTimeoutMs'),
    });
    expect(() => make({ retry: { timeoutMs: 1 } as never })).toThrow(
      /retry\.timeoutMs.*retry\.acquireTimeoutMs/,
    );
    await held.release();
    await locks.close();
  });

  it('gives a fair lock to tryAcquire only when free and nobody queues, and serves queued callers in order', async () => {
    const a = make({ fair: true, ttlMs: 5_000 });
    const b = make({ fair: true, ttlMs: 5_000 });
    const held = (await a.tryAcquire('fair-try')) as LockHandle;
    expect(held).not.toBeNull();
    expect(await b.tryAcquire('fair-try')).toBeNull();
    await expect(b.acquire('fair-try', { acquireTimeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError);
    const order: string[] = [];
    const first = b.withLock('fair-try', () => void order.push('b'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = a.withLock('fair-try', () => void order.push('a'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await held.release();
    await Promise.all([first, second]);
    expect(order).toEqual(['b', 'a']);
    expect(await a.isLocked('fair-try')).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });

  it('releases at the end of an `await using` block', async () => {
    const locks = make();
    {
      await using lock = await locks.acquire('scoped');
      expect(lock.name).toBe('scoped');
      expect(await locks.isLocked('scoped')).toBe(true);
    }
    expect(await locks.isLocked('scoped')).toBe(false);
    await locks.close();
  });

  it('returns what the protected function returns, and releases when it throws', async () => {
    const locks = make();
    expect(await locks.withLock('fn', () => 42)).toBe(42);
    await expect(
      locks.withLock('fn', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await locks.isLocked('fn')).toBe(false);
    await locks.close();
  });

  it('refuses bad input with typed errors before writing anything', async () => {
    const bad = uniquePrefix('lock-bad');
    for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createLock({ redis, prefix: bad, ttlMs })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'ttlMs' }),
      );
    }
    expect(() => createLock({ redis, prefix: '{bad}' })).toThrow(
      expect.objectContaining({ argument: 'prefix' }),
    );
    expect(() => createLock({ redis, prefix: bad, retry: { delayMs: 0 } })).toThrow(
      expect.objectContaining({ argument: 'retry.delayMs' }),
    );
    const locks = createLock({ redis, prefix: bad });
    await expect(locks.acquire('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'name' });
    await expect(locks.acquire(undefined as unknown as string)).rejects.toMatchObject({ argument: 'name' });
    await expect(locks.tryAcquire('x'.repeat(2_000))).rejects.toMatchObject({ argument: 'name' });
    await expect(locks.acquire('ok', { ttlMs: Number.NaN })).rejects.toMatchObject({ argument: 'ttlMs' });
    await expect(locks.acquire('ok', { acquireTimeoutMs: -5 })).rejects.toMatchObject({
      argument: 'acquireTimeoutMs',
    });
    await expect(locks.withLock('ok', 'not a function' as never)).rejects.toMatchObject({ argument: 'fn' });
    await expect(locks.acquire('ok', null as never)).rejects.toMatchObject({ argument: 'options' });
    await expect(locks.tryAcquire('ok', 'fast' as never)).rejects.toMatchObject({ argument: 'options' });
    const found: string[] = [];
    for await (const key of redis.scan(`${bad}*`)) found.push(key);
    expect(found).toEqual([]);

    const handle = await locks.acquire('released');
    await expect(handle.extend(0)).rejects.toMatchObject({ argument: 'ttlMs' });
    await handle.release();
    await handle.release(); // idempotent
    const error = await handle.extend().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LockLostError);
    expect(error).toMatchObject({ reason: 'released', code: 'ERR_OWNERSHIP_LOST' });
    await locks.close();
    await expect(locks.acquire('ok')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('extends on demand and reports the new expiry', async () => {
    const locks = make({ ttlMs: 1_000, autoExtend: false });
    const handle = await locks.acquire('manual');
    const before = handle.expiresAt;
    await handle.extend(20_000);
    expect(handle.expiresAt).toBeGreaterThan(before + 15_000);
    const key = `${prefix}{manual}`;
    expect(await redis.send<number>(['PTTL', key], { key })).toBeGreaterThan(15_000);
    expect(await get(key)).not.toBeNull();
    await handle.release();
    expect(await get(key)).toBeNull();
    await locks.close();
  });
});
