import { connect, type RedisConnection } from '@redis-patterns/connection';
import { failoverDrill } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../src/index.ts';

describe.each(['cluster', 'sentinel'] as const)('cache through a %s failover', (topology) => {
  it('serves every read (from the loader while its master is down), reports typed errors, and caches again after', async () => {
    const errors: Record<string, number> = {};
    let loads = 0;
    let loadsAfter = -1;
    const report = await failoverDrill<{ redis: RedisConnection; cache: Cache }>({
      topology,
      key: 'cache:{drill}',
      async setup(url) {
        const redis = await connect({ url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 200 } });
        const cache = createCache({ redis, ttlMs: 60_000 });
        cache.on('error', (event) => {
          const err = event.error as { code?: string; name?: string; message?: string };
          const code = err.code ?? `untyped: ${err.name}: ${err.message}`;
          errors[code] = (errors[code] ?? 0) + 1;
        });
        return { redis, cache };
      },
      async operation({ cache }, n) {
        const key = `item:${n % 20}`;
        const value = await cache.getOrLoad(key, async () => {
          loads++;
          return { key };
        });
        if (value.key !== key) throw new Error(`wrong value for ${key}`);
      },
      async check({ cache }) {
        // Healed: the entries are cached again, reads no longer load.
        for (let i = 0; i < 20; i++) await cache.getOrLoad(`item:${i}`, async () => ({ key: `item:${i}` }));
        loadsAfter = loads;
        for (let i = 0; i < 20; i++) await cache.getOrLoad(`item:${i}`, async () => ({ key: `item:${i}` }));
        expect(loads).toBe(loadsAfter);
      },
      teardown: ({ redis }) => redis.close(),
    });
    console.info(`cache ${topology} failover`, report, { loads, errors });
    expect(report.failures).toEqual({});
    expect(Object.keys(errors).filter((kind) => kind.startsWith('untyped'))).toEqual([]);
    expect(report.slowestMs).toBeLessThan(3 * 1_000 + 500 + report.stalledMs);
  });
});
