import { fileURLToPath } from 'node:url';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { assertBuilt, type Child, startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock, type DistributedLock, LockLostError } from '../src/index.ts';

// Children import the built package (test/fixtures/*.mjs -> packages/lock/dist).
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

describe.each(topologies())('lock across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lock-proc');
  const children: Child[] = [];
  const spawn = (file: string, args: Record<string, unknown>) => {
    const script = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
    const child = startChild(script, [JSON.stringify({ url, prefix, ...args })]);
    children.push(child);
    return child;
  };
  /** The exit code of a child. */
  const codeOf = async (child: Child) => (await child.exited).code;
  const make = (options: Partial<Parameters<typeof createLock>[0]> = {}): DistributedLock =>
    createLock({ redis, prefix, ...options });

  beforeAll(async () => {
    assertBuilt(new URL('../dist/index.js', import.meta.url), 'lock');
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
    const results = await Promise.all(
      workers.map((w) => w.json<Record<string, unknown>>((line) => 'overlaps' in line, 55_000)),
    );
    expect(await Promise.all(workers.map(codeOf))).toEqual([0, 0, 0, 0]);
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
    const acquired = await holder.json<Record<string, unknown>>((line) => line.event === 'acquired', 20_000);
    holder.process.kill('SIGKILL');
    await holder.exited;
    const killedAt = performance.now();
    const locks = make({ retry: { acquireTimeoutMs: 10_000 } });
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
    await child.json<Record<string, unknown>>((line) => line.event === 'waiting', 20_000);
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      // Blocked: no timer, no extension, no I/O of this process runs. The TTL (500 ms) runs out.
    }
    const reason = await new Promise((resolve) => {
      if (held.signal.aborted) resolve(held.signal.reason);
      held.signal.addEventListener('abort', () => resolve(held.signal.reason), { once: true });
    });
    expect(reason).toBeInstanceOf(LockLostError);
    const taken = await child.json<Record<string, unknown>>((line) => line.event === 'acquired', 10_000);
    expect(taken.token as number).toBeGreaterThan(held.fencingToken);
    const error = await held.release().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LockLostError);
    expect(await locks.isLocked('paused')).toBe(true); // the child's lock survived our release
    await child.json<Record<string, unknown>>((line) => line.event === 'released', 10_000);
    expect(await codeOf(child)).toBe(0);
    await locks.close();
  });

  it('shares a contended lock fairly between processes: with two of four killed, the survivors complete within 2x of each other', async () => {
    const name = 'fairness';
    const workers = Array.from({ length: 4 }, () =>
      spawn('fairness.mjs', { name, contenders: 10, durationMs: 10_000, ttlMs: 1_000 }),
    );
    await Promise.all(
      workers.map((w) => w.json<Record<string, unknown>>((line) => Number(line.completed) > 0, 20_000)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const victim of workers.slice(0, 2)) victim.process.kill('SIGKILL');
    const survivors = workers.slice(2);
    // Counted over one window that both survivors spend running (each prints its count every
    // 100 ms): they started at different times, so their totals cover different spans.
    const latest = (w: (typeof workers)[number]) => {
      const line = JSON.parse(w.lines.at(-1) ?? '{}') as { completed?: number; done?: boolean };
      if (line.done === true) throw new Error('a survivor finished inside the measured window');
      return Number(line.completed ?? 0);
    };
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = survivors.map(latest);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const totals = survivors.map((w, i) => latest(w) - (before[i] as number));
    console.info('critical sections per surviving process in 2.5 s after the kill', totals);
    expect(Math.min(...totals)).toBeGreaterThan(0);
    expect(Math.max(...totals) / Math.min(...totals)).toBeLessThanOrEqual(2);
    await Promise.all(
      survivors.map((w) => w.json<Record<string, unknown>>((line) => line.done === true, 30_000)),
    );
  });

  it('grants a fair lock in arrival order across processes, skipping a waiter whose process died', async () => {
    const name = 'fifo';
    const locks = make({ fair: true, ttlMs: 10_000 });
    const held = await locks.acquire(name);
    const queue = `${prefix}{${name}}:queue`;
    const waiters = Array.from({ length: 3 }, () => spawn('fair-waiter.mjs', { name }));
    for (let label = 0; label < 9; label++) {
      waiters[label % 3]?.send(`acquire ${label}`);
      // The next caller arrives only once this one has joined the queue in Redis.
      const deadline = Date.now() + 10_000;
      while ((await redis.send<number>(['LLEN', queue], { key: queue })) < label + 1) {
        if (Date.now() > deadline) throw new Error(`waiter ${label} never joined the queue`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    // The process of waiters 2, 5 and 8 dies while they wait: each is skipped once its mark expires.
    const [first, second, dead] = waiters as [Child, Child, Child];
    dead.process.kill('SIGKILL');
    first.process.stdin?.end();
    second.process.stdin?.end();
    await held.release();
    const grants = await Promise.all(
      [0, 1, 3, 4, 6, 7].map((label) =>
        (label % 3 === 0 ? first : second).json<Record<string, unknown>>(
          (line) => line.event === 'acquired' && line.label === label,
          20_000,
        ),
      ),
    );
    const order = [...grants].sort((a, b) => Number(a.token) - Number(b.token)).map((line) => line.label);
    expect(order).toEqual([0, 1, 3, 4, 6, 7]);
    expect(await Promise.all([first, second].map(codeOf))).toEqual([0, 0]);
    await locks.close();
  });
});
