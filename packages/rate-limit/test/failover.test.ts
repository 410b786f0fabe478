import { connect, type RedisConnection } from '@redis-patterns/connection';
import { failoverDrill } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createRateLimiter, fixedWindow, type RateLimiter } from '../src/index.ts';

describe.each(['cluster', 'sentinel'] as const)('rate limiter through a %s failover', (topology) => {
  it('decides every check within its timeout, reports Redis failures as typed errors, and heals', async () => {
    let admitted = 0;
    const report = await failoverDrill<{ redis: RedisConnection; limiter: RateLimiter }>({
      topology,
      key: 'rl:{user}',
      async setup(url) {
        const redis = await connect({ url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 200 } });
        const limiter = createRateLimiter({
          redis,
          name: 'drill',
          algorithm: fixedWindow({ limit: 1_000_000, windowMs: 60_000 }),
        });
        return { redis, limiter };
      },
      async operation({ limiter }) {
        const result = await limiter.limit('user');
        // failMode 'open' admits when Redis fails, and says why.
        if (result.error !== undefined) throw result.error;
        if (result.allowed) admitted++;
      },
      teardown: ({ redis }) => redis.close(),
    });
    console.info(`rate-limit ${topology} failover`, report, { admitted });
    expect(Object.keys(report.failures).filter((kind) => kind.startsWith('untyped'))).toEqual([]);
    // The limiter's own bound (500 ms by default), not the connection's.
    expect(report.slowestMs).toBeLessThan(500 + 300 + report.stalledMs);
    expect(report.healedAfterMs).toBeLessThan(15_000);
  });
});
