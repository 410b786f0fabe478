import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { commandsRun, type RedisServer, scriptsIn, startRedis, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock, type DistributedLock } from '../src/index.ts';

// A server of its own: the test pauses it, and counts the scripts it runs.
describe('acquireAll callers of one process, whatever the round trip', () => {
  let server: RedisServer;
  let redis: RedisConnection;
  const prefix = uniquePrefix('lock-multi-order');
  const locks: DistributedLock[] = [];
  const make = () => {
    const lock = createLock({ redis, prefix, ttlMs: 10_000, retry: { acquireTimeoutMs: 20_000 } });
    locks.push(lock);
    return lock;
  };

  beforeAll(async () => {
    server = await startRedis();
    redis = await connect({ url: server.url, commandTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await server?.resume().catch(() => {});
    await Promise.all(locks.map((lock) => lock.close()));
    await redis?.close();
    await server?.stop();
  });

  it('are served in the order they were made, also when a call comes before the answer to an older one', async () => {
    const holder = make();
    const callers = make();
    const blocker = await holder.acquireAll(['slow-a', 'slow-b']);
    const order: number[] = [];
    let calls: Array<Promise<void>> = [];
    const ran = await commandsRun(redis, async () => {
      // While Redis is paused no attempt is answered: each call comes before the older ones know
      // they wait. The later ones stand behind the first instead of sending attempts of their own.
      await server.pause();
      try {
        calls = Array.from({ length: 10 }, (_, i) =>
          callers.withLocks(['slow-a', 'slow-b'], () => void order.push(i)),
        );
        // Awaited below; a failed test must not leave them unhandled.
        for (const call of calls) call.catch(() => {});
        await sleep(50);
      } finally {
        await server.resume();
      }
      await sleep(100); // the first call is refused, subscribes and tries once more
    });
    // The first call's attempt, and its second one once subscribed; not one per caller.
    expect(scriptsIn(ran)).toBeLessThanOrEqual(2);
    await blocker.release();
    await Promise.all(calls);
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});
