import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { failoverDrill, startFailoverTarget, startRedis } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  createLock,
  type DistributedLock,
  type LockHandle,
  NotReplicatedError,
} from '../src/index.ts';

const topologies = ['cluster', 'sentinel'] as const;

describe.each(topologies)('lock through a %s failover', (topology) => {
  it('keeps one holder at a time between two instances under load, and heals by itself', async () => {
    let inside = 0;
    let overlaps = 0;
    const report = await failoverDrill<{ redis: RedisConnection; a: DistributedLock; b: DistributedLock }>({
      topology,
      key: 'lock:{drill}',
      async setup(url) {
        const redis = await connect({ url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 200 } });
        const options = { redis, ttlMs: 2_000, retry: { acquireTimeoutMs: 2_000 } };
        return { redis, a: createLock(options), b: createLock(options) };
      },
      async operation({ a, b }, n) {
        await (n % 2 === 0 ? a : b).withLock('drill', async () => {
          if (++inside > 1) overlaps++;
          await sleep(1);
          inside--;
        });
      },
      async teardown({ redis, a, b }) {
        await Promise.all([a.close(), b.close()]);
        await redis.close();
      },
    });
    console.info(`lock ${topology} failover`, report, { overlaps });
    expect(Object.keys(report.failures).filter((kind) => kind.startsWith('untyped'))).toEqual([]);
    expect(overlaps).toBe(0);
    // An acquire waits up to its 2 s timeout; nothing waits longer than that plus a command timeout.
    expect(report.slowestMs).toBeLessThan(2_000 + 1_000 + 500 + report.stalledMs);
    expect(report.healedAfterMs).toBeLessThan(15_000);
  });

  it('frees a lock whose release failed on the dead master once the new master answers, not after its TTL', async () => {
    const target = await startFailoverTarget(topology);
    const redis = await connect({ url: target.url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 200 } });
    try {
      const holder = createLock({ redis, ttlMs: 30_000 });
      const other = createLock({ redis, retry: { acquireTimeoutMs: 20_000 } });
      const held = await holder.acquire('stuck');
      await sleep(100); // replicated
      const killed = performance.now();
      const failover = target.failover('lock:{stuck}');
      await sleep(300);
      const error = await held.release().catch((err: unknown) => err);
      expect(error).toMatchObject({ code: expect.stringMatching(/ERR_CONNECTION|ERR_TIMEOUT/) });
      const { promotedAfterMs } = await failover;
      // Until node-redis has moved the slot to the promoted replica, a call fails fast: retry those.
      let next: LockHandle | undefined;
      for (const until = performance.now() + 20_000; next === undefined; ) {
        next = await other.acquire('stuck').catch((err: unknown) => {
          if (!(err instanceof ConnectionError) || performance.now() > until) throw err;
          return sleep(100).then(() => undefined);
        });
      }
      const waitedMs = performance.now() - killed;
      console.info(
        `lock ${topology}: free ${Math.round(waitedMs)} ms after the kill (promoted after ${promotedAfterMs} ms)`,
      );
      expect(waitedMs).toBeLessThan(promotedAfterMs + 8_000);
      expect(waitedMs).toBeLessThan(30_000);
      await next.release();
      await Promise.all([holder.close(), other.close()]);
    } finally {
      await redis.close();
      await target.stop();
    }
  });
});

describe('lock with durability (WAIT)', () => {
  it('counts a grant only once a replica has it, and gives back a grant the replica did not get', async () => {
    const master = await startRedis({ forceBinary: true });
    const replica = await startRedis({
      forceBinary: true,
      args: ['--replicaof', '127.0.0.1', String(master.port)],
    });
    const redis = await connect({ url: master.url, commandTimeoutMs: 2_000 });
    const view = await connect({ url: replica.url });
    try {
      // The acknowledged path gives the replica's ack time to arrive on a loaded machine (test
      // files run beside each other); the refused path below keeps the 300 ms bound it checks.
      const locks = createLock({ redis, durability: { replicas: 1, timeoutMs: 1_500 } });
      const strict = createLock({ redis, durability: { replicas: 1, timeoutMs: 300 } });
      for (let waited = 0; (await redis.send<number>(['WAIT', '1', '100'])) < 1; waited++)
        if (waited > 100) throw new Error('the replica never caught up');
      const held = await locks.acquire('durable');
      // Acknowledged after WAIT: the replica has the grant.
      expect(await view.send(['GET', 'lock:{durable}'])).not.toBeNull();
      await held.extend(5_000);
      expect(await view.send(['PTTL', 'lock:{durable}'])).toBeGreaterThan(3_000);
      await held.release();
      await replica.pause();
      const started = performance.now();
      const error = await strict.acquire('durable', { acquireTimeoutMs: 1_000 }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(NotReplicatedError);
      expect(performance.now() - started).toBeLessThan(300 + 500);
      expect(await strict.isLocked('durable')).toBe(false);
      await Promise.all([locks.close(), strict.close()]);
    } finally {
      await replica.resume().catch(() => {});
      await Promise.all([redis.close(), view.close()]);
      await Promise.all([master.stop(), replica.stop()]);
    }
  });
});
