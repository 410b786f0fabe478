import { connect, type RedisConnection } from '@redis-patterns/connection';
import { type RedisServer, startRedis, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Algorithm, createRateLimiter, fixedWindow, slidingWindowLog } from '../src/index.ts';

// The fixed window and the sliding log charge before they know whether the cost fits, and give a
// refused cost back (src/lua/lib/fixed.lua, log.lua). When Redis refuses every write (out of
// memory, a failed save, too few replicas), a call over the limit must still be refused, with no
// error, as when they read first; only a call that fits meets Redis's error (and the fail mode).
describe('rate limiting while Redis refuses writes', () => {
  let server: RedisServer;
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl-nowrite');
  let n = 0;

  beforeAll(async () => {
    // A server of its own: the test changes its configuration.
    server = await startRedis({ forceBinary: true });
    redis = await connect({ url: server.url });
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  const algorithms: Array<[string, () => Algorithm]> = [
    ['fixed window', () => fixedWindow({ limit: 2, windowMs: 60_000 })],
    ['sliding window log', () => slidingWindowLog({ limit: 2, windowMs: 60_000 })],
  ];
  // How Redis is made to refuse writes, the error it then answers with, and how it is undone.
  const refusals: Array<[string, string[][], RegExp, string[][]]> = [
    [
      // One replica required and none attached: every write is refused.
      'too few replicas',
      [['CONFIG', 'SET', 'min-replicas-to-write', '1']],
      /NOREPLICAS/,
      [['CONFIG', 'SET', 'min-replicas-to-write', '0']],
    ],
    [
      // Over maxmemory with nothing to evict: every command that may grow memory is refused.
      'out of memory',
      [
        ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
        ['CONFIG', 'SET', 'maxmemory', '1'],
      ],
      /OOM/,
      [['CONFIG', 'SET', 'maxmemory', '0']],
    ],
  ];
  const cases = refusals.flatMap(([how, on, error, off]) =>
    algorithms.map(([name, algorithm]) => ({ name, how, algorithm, on, error, off })),
  );

  it.each(cases)(
    'still refuses a call over the limit, alone or batched, and fails one that fits ($name, $how)',
    async ({ algorithm, on, error, off }) => {
      const limiter = createRateLimiter({ redis, prefix: `${prefix}${n++}:`, algorithm: algorithm() });
      for (const id of ['full', 'full', 'room']) expect((await limiter.limit(id)).allowed).toBe(true);
      for (const command of on) await redis.send(command);
      try {
        const alone = await limiter.limit('full');
        expect(alone).toMatchObject({ allowed: false, remaining: 0 });
        expect(alone.error).toBeUndefined();
        // The first goes out alone; the three issued while it is in flight share one batch script
        // call, decided in order.
        const [first, ...batched] = await Promise.all([
          limiter.limit('full'),
          limiter.limit('full'),
          limiter.limit('room'),
          limiter.limit('room', { cost: 2 }),
        ]);
        for (const refused of [first, batched[0], batched[2]]) {
          expect(refused).toMatchObject({ allowed: false });
          expect(refused?.error).toBeUndefined();
        }
        // It fits, so it needs a write: the fail mode ('open') decides, with Redis's error.
        expect(batched[1]).toMatchObject({ allowed: true });
        expect(batched[1]?.error?.message).toMatch(error);
      } finally {
        for (const command of off) await redis.send(command);
      }
      expect(await limiter.peek('full')).toMatchObject({ allowed: false, remaining: 0 });
      expect(await limiter.peek('room')).toMatchObject({ allowed: true, remaining: 1 });
    },
  );
});
