import { connect, escapeGlob, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Algorithm,
  createRateLimiter,
  fixedWindow,
  slidingWindowCounter,
  slidingWindowLog,
  tokenBucket,
} from '../src/index.ts';

const standaloneUrl = topologies()[0]?.url ?? '';
const DAY = 86_400_000;

const algorithms: Array<[string, (limit: number) => Algorithm]> = [
  ['slidingWindowLog', (limit) => slidingWindowLog({ limit, windowMs: DAY })],
  ['slidingWindowCounter', (limit) => slidingWindowCounter({ limit, windowMs: DAY })],
  ['fixedWindow', (limit) => fixedWindow({ limit, windowMs: DAY })],
  ['tokenBucket', (limit) => tokenBucket({ ratePerSec: 0.0001, burst: limit })],
];

describe('memory per identifier', () => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl-mem');

  beforeAll(async () => {
    redis = await connect({ url: standaloneUrl });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('reports MEMORY USAGE of a used-up key at limit 100 and 10,000', async () => {
    const bytes: Record<string, Record<number, number>> = {};
    for (const [kind, algorithm] of algorithms) {
      bytes[kind] = {};
      for (const limit of [100, 10_000]) {
        const keyPrefix = `${prefix}${kind}:${limit}:`;
        const limiter = createRateLimiter({ redis, prefix: keyPrefix, algorithm: algorithm(limit) });
        // One call per unit, as real traffic would write them (the log stores one entry per call).
        for (let sent = 0; sent < limit; sent += 1000) {
          const batch = Math.min(1000, limit - sent);
          await Promise.all(Array.from({ length: batch }, () => limiter.limit('user-1234567890')));
        }
        expect((await limiter.peek('user-1234567890')).remaining).toBe(0);
        const keys: string[] = [];
        for await (const key of redis.scan(`${escapeGlob(keyPrefix)}*`)) keys.push(key);
        expect(keys).toHaveLength(1);
        const key = keys[0] as string;
        (bytes[kind] as Record<number, number>)[limit] = await redis.send<number>(
          ['MEMORY', 'USAGE', key, 'SAMPLES', '0'],
          { key },
        );
      }
    }
    console.log('MEMORY USAGE per identifier (bytes, key "<prefix>{user-1234567890}:<suffix>"):');
    console.table(bytes);
    // The log stores every call; the others keep one small value whatever the limit.
    const log = bytes.slidingWindowLog as Record<number, number>;
    expect(log[10_000]).toBeGreaterThan(50 * (log[100] as number));
    for (const kind of ['slidingWindowCounter', 'fixedWindow', 'tokenBucket']) {
      const sizes = bytes[kind] as Record<number, number>;
      expect(sizes[10_000], kind).toBeLessThan(200);
      expect(Math.abs((sizes[10_000] as number) - (sizes[100] as number)), kind).toBeLessThanOrEqual(16);
    }
  });
});
