import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import {
  commandsRun,
  type RedisServer,
  startRedis,
  uniquePrefix,
  untilAnswers,
} from '@redis-patterns/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createLock, type LockHandle, LockLostError } from '../src/index.ts';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

function lossOf(handle: LockHandle): Promise<unknown> {
  return new Promise((resolve) => {
    if (handle.signal.aborted) resolve(handle.signal.reason);
    handle.signal.addEventListener('abort', () => resolve(handle.signal.reason), { once: true });
  });
}

async function withServer(
  args: string[],
  run: (server: RedisServer, redis: RedisConnection) => Promise<void>,
) {
  const server = await startRedis({ forceBinary: true, args });
  const redis = await connect({ url: server.url, commandTimeoutMs: 5_000, reconnect: { maxDelayMs: 100 } });
  try {
    await run(server, redis);
  } finally {
    await server.resume().catch(() => {});
    await redis.close();
    await server.stop();
  }
}

describe('lock against a faulty redis-server', () => {
  const prefix = uniquePrefix('lock-fault');
  afterAll(() => {
    expect(unhandled).toEqual([]);
  });

  it('releases alone in one script round trip, and reports a lock taken or expired meanwhile', async () => {
    await withServer([], async (_server, redis) => {
      const locks = createLock({ redis, prefix, ttlMs: 5_000, autoExtend: false });
      const held = await locks.acquire('alone');
      const ran = await commandsRun(redis, () => held.release());
      // No WATCH, MULTI or EXEC: one script (EVAL the first time) running GET, DEL, SPUBLISH.
      expect(ran).toEqual({ eval: 1, get: 1, del: 1, spublish: 1 });
      expect(await redis.send(['EXISTS', `${prefix}{alone}`])).toBe(0);

      const taken = await locks.acquire('taken');
      await redis.send(['SET', `${prefix}{taken}`, 'someone else']);
      const lostTo = await taken.release().catch((err: unknown) => err);
      expect(lostTo).toBeInstanceOf(LockLostError);
      expect((lostTo as LockLostError).reason).toBe('taken');
      expect(await redis.send(['GET', `${prefix}{taken}`])).toBe('someone else');

      const expired = await locks.acquire('expired');
      await redis.send(['DEL', `${prefix}{expired}`]);
      const gone = await expired.release().catch((err: unknown) => err);
      expect((gone as LockLostError).reason).toBe('expired');
    });
  });

  it('signals the loss when Redis restarts without persistence mid-hold; the fencing counter restarts too', async () => {
    await withServer([], async (server, redis) => {
      const locks = createLock({ redis, prefix, ttlMs: 1_000 });
      const held = await locks.acquire('restart');
      const lost = lossOf(held);
      await server.restart();
      const reason = await lost;
      expect(reason).toBeInstanceOf(LockLostError);
      expect(['expired', 'unconfirmed']).toContain((reason as LockLostError).reason);
      await untilAnswers(redis);
      await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
      const next = await locks.acquire('restart');
      // Documented outcome: the counter was lost with the data, so tokens start again at 1.
      expect(next.fencingToken).toBe(1);
      await next.release();
      await locks.close();
    });
  });

  it('keeps the lock and its token order across a restart with appendonly persistence', async () => {
    await withServer(['--appendonly', 'yes', '--appendfsync', 'always'], async (server, redis) => {
      const locks = createLock({ redis, prefix, ttlMs: 3_000 });
      const held = await locks.acquire('persisted');
      await server.restart();
      await untilAnswers(redis);
      await sleep(1_500); // at least one extension (every 1 s) ran after the restart
      expect(held.signal.aborted).toBe(false);
      expect(await locks.isLocked('persisted')).toBe(true);
      await held.release();
      const next = await locks.acquire('persisted');
      expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
      await next.release();
      await locks.close();
    });
  });

  it('reports an unconfirmed loss at the TTL when Redis stops answering, not after the 5 s command timeout', async () => {
    await withServer([], async (server, redis) => {
      const locks = createLock({ redis, prefix, ttlMs: 600 });
      const held = await locks.acquire('paused-server');
      const lost = lossOf(held);
      await server.pause();
      const paused = performance.now();
      const reason = await lost;
      expect(reason).toMatchObject({ name: 'LockLostError', reason: 'unconfirmed' });
      expect(performance.now() - paused).toBeLessThan(600 + 1_500);
      // The loss is reported by the client's clock, which may be before Redis's TTL runs out: wait
      // until every extension Redis ran before the pause has expired (an extension still in the
      // socket runs after the resume and finds the key gone).
      await sleep(Math.max(0, paused + 600 + 100 - performance.now()));
      await server.resume();
      // The TTL ran out in Redis meanwhile: release says so, and nothing crashes.
      await expect(held.release()).rejects.toBeInstanceOf(LockLostError);
      await locks.close();
    });
  });
});
