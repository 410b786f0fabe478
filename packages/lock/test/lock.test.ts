import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
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
});
