import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock, type DistributedLock, type LockHandle, LockLostError } from '../src/index.ts';

// Anything thrown in the background (a failed extension, a hand-over) must reach the caller as a
// rejection or a signal, never the process: every test below runs under this listener.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

describe.each(topologies())('lock on $name', ({ url }) => {
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

  it('gives the lock to one of 20 contenders at a time, with fencing tokens increasing in grant order', async () => {
    const locks = make({ ttlMs: 5_000 });
    let inside = 0;
    let overlaps = 0;
    let counter = 0;
    const tokens: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 10; i++) {
          await locks.withLock('counter', async (_signal, handle) => {
            if (++inside > 1) overlaps++;
            tokens.push(handle.fencingToken);
            const value = counter;
            await redis.send(['PING']); // a real await between the read and the write
            counter = value + 1;
            inside--;
          });
        }
      }),
    );
    expect(overlaps).toBe(0);
    expect(counter).toBe(200);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    expect(await locks.isLocked('counter')).toBe(false);
    await locks.close();
  });

  it('issues each grant a token above every earlier one; failed attempts take none', async () => {
    const a = make({ ttlMs: 5_000 });
    const b = make({ ttlMs: 5_000 });
    const first = (await a.tryAcquire('fence')) as LockHandle;
    expect(await b.tryAcquire('fence')).toBeNull();
    expect(await b.tryAcquire('fence')).toBeNull();
    await first.release();
    const second = (await b.tryAcquire('fence')) as LockHandle;
    expect(second.fencingToken).toBe(first.fencingToken + 1);
    await second.release();
    const third = (await a.tryAcquire('fence')) as LockHandle;
    expect(third.fencingToken).toBeGreaterThan(second.fencingToken);
    await third.release();
    await Promise.all([a.close(), b.close()]);
  });

  it('wakes a waiter of another process-like instance on release, without waiting for a poll', async () => {
    const holder = make({ ttlMs: 30_000 });
    // A 10 s poll interval: only the release message can explain a prompt hand-over.
    const waiter = make({ ttlMs: 30_000, retry: { acquireTimeoutMs: 10_000, delayMs: 10_000, jitterMs: 0 } });
    const held = await holder.acquire('wake');
    const waiting = waiter.acquire('wake');
    await sleep(300); // the waiter has subscribed, tried once and gone to sleep
    const released = performance.now();
    await held.release();
    const next = await waiting;
    // Generous for a loaded machine; polling alone would take 10 s.
    expect(performance.now() - released).toBeLessThan(2_000);
    expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
    await next.release();
    await Promise.all([holder.close(), waiter.close()]);
  });

  it('hands the lock straight to local waiters on release, and still lets other instances in', async () => {
    const busy = make({ ttlMs: 5_000 });
    const other = make({ ttlMs: 5_000, retry: { acquireTimeoutMs: 10_000, delayMs: 10_000 } });
    let stop = false;
    let grants = 0;
    // 10 workers of one instance keep the lock busy back to back for as long as it takes.
    const workers = Array.from({ length: 10 }, async () => {
      while (!stop) await busy.withLock('busy', () => void grants++);
    });
    await sleep(100);
    const started = performance.now();
    const outsider = await other.acquire('busy');
    const waitedMs = performance.now() - started;
    stop = true;
    await outsider.release();
    await Promise.all(workers);
    // Local hand-overs are capped, so the outsider got a turn long before its 10 s timeout.
    expect(waitedMs).toBeLessThan(5_000);
    expect(grants).toBeGreaterThan(0);
    await Promise.all([busy.close(), other.close()]);
  });

  it('keeps a job 5x longer than the TTL safe by extending it in the background', async () => {
    const locks = make({ ttlMs: 400 });
    const rival = make({ ttlMs: 400 });
    let stolen = 0;
    const result = await locks.withLock('long-job', async (signal, handle) => {
      const until = performance.now() + 2_000;
      while (performance.now() < until) {
        if ((await rival.tryAcquire('long-job')) !== null) stolen++;
        await sleep(50);
      }
      expect(handle.expiresAt).toBeGreaterThan(Date.now());
      return signal.aborted ? 'lost' : 'kept';
    });
    expect(result).toBe('kept');
    expect(stolen).toBe(0);
    await Promise.all([locks.close(), rival.close()]);
  });

  it('reports a lost lock on release and never deletes the new owner’s lock', async () => {
    const locks = make({ ttlMs: 150, autoExtend: false });
    const rival = make({ ttlMs: 10_000 });
    const held = await locks.acquire('expired');
    await sleep(400); // the TTL runs out: the lock is free in Redis
    const theirs = (await rival.tryAcquire('expired')) as LockHandle;
    expect(theirs).not.toBeNull();
    const error = await held.release().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LockLostError);
    expect(error).toMatchObject({ code: 'ERR_OWNERSHIP_LOST', reason: 'taken', lockName: 'expired' });
    expect(await rival.isLocked('expired')).toBe(true);
    expect(held.signal.aborted).toBe(true);
    await theirs.release(); // still theirs: releases cleanly
    await Promise.all([locks.close(), rival.close()]);
  });

  it('releases 40 locks at once in shared batches; a lost one among them fails alone and keeps its new owner', async () => {
    const locks = make({ ttlMs: 10_000, autoExtend: false });
    const rival = make({ ttlMs: 10_000 });
    // Names share hash tags in pairs, so on Cluster some batches hold two locks of one slot.
    const names = Array.from({ length: 40 }, (_, i) => `{batch${i >> 1}}:${i}`);
    const handles = await Promise.all(names.map((n) => locks.acquire(n)));
    // Lock 5 changes hands behind its holder's back; lock 6 expires.
    await rival.forceRelease(names[5] as string);
    const theirs = (await rival.tryAcquire(names[5] as string)) as LockHandle;
    await rival.forceRelease(names[6] as string);
    const results = await Promise.allSettled(handles.map((h) => h.release()));
    results.forEach((r, i) => {
      if (i === 5) expect(r).toMatchObject({ status: 'rejected', reason: { reason: 'taken' } });
      else if (i === 6) expect(r).toMatchObject({ status: 'rejected', reason: { reason: 'expired' } });
      else expect(r.status).toBe('fulfilled');
    });
    for (const [i, name] of names.entries()) expect(await locks.isLocked(name)).toBe(i === 5);
    await theirs.release();
    // A rival's change while the batch is in flight (before its check, or between check and EXEC,
    // which aborts the EXEC and makes each release retry alone) fails at most that one release.
    const again = await Promise.all(names.map((n) => locks.acquire(n)));
    const released = Promise.allSettled(again.map((h) => h.release()));
    await rival.forceRelease(names[9] as string);
    const settled = await released;
    expect(settled.filter((r) => r.status === 'rejected').length).toBeLessThanOrEqual(1);
    for (const name of names) expect(await locks.isLocked(name)).toBe(false);
    await Promise.all([locks.close(), rival.close()]);
  });

  it('aborts the holder’s signal with LockLostError when an extension finds the lock force-released', async () => {
    const locks = make({ ttlMs: 300 });
    const admin = make();
    const result = await locks
      .withLock('forced', async (signal) => {
        expect(await admin.forceRelease('forced')).toBe(true);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return signal.reason;
      })
      .catch((err: unknown) => err);
    // withLock rejects: the work was not exclusive after the loss.
    expect(result).toBeInstanceOf(LockLostError);
    expect((result as LockLostError).reason).toBe('expired');
    expect(await admin.forceRelease('forced')).toBe(false);
    await Promise.all([locks.close(), admin.close()]);
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
