import { connect } from '@redis-patterns/connection';
import { createRateLimiter, fixedWindow } from '@redis-patterns/rate-limit';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { defineScenario, type Runner } from '../scenario.ts';

// 1,000 clients, each over its limit and blocked for an hour before the row starts: every
// measured check is a blocked client hammering, and every one is refused.
const IDENTIFIERS = 1000;
const identifier = (i: number) => `client${i % IDENTIFIERS}`;
const HOUR_MS = 3_600_000;

/** Our limiter with a one-hour block, every client blocked first; `localBlockCache` as given. */
async function ours(url: string, prefix: string, localBlockCache: boolean): Promise<Runner> {
  const redis = await connect({ url });
  const limiter = createRateLimiter({
    redis,
    prefix,
    algorithm: fixedWindow({ limit: 100, windowMs: HOUR_MS }),
    blockDurationMs: HOUR_MS,
    localBlockCache,
  });
  for (let i = 0; i < IDENTIFIERS; i++) {
    await limiter.penalty(identifier(i), 100);
    const { blockedMs } = await limiter.limit(identifier(i));
    if (blockedMs === undefined) throw new Error(`${identifier(i)} is not blocked`);
  }
  return { op: (i) => limiter.limit(identifier(i)), close: () => redis.close() };
}

export default defineScenario({
  name: 'rate-limit-blocked',
  description:
    'Checks of blocked clients (1,000 clients, each over its limit and blocked for an hour): the peer and ours both answer from memory; the last row asks Redis.',
  inflight: [1, 50],
  rows: [
    {
      // The peer's in-memory block: a key at inMemoryBlockOnConsumed is refused without Redis.
      name: 'rate-limiter-flexible RateLimiterRedis, inMemoryBlockOnConsumed',
      peer: true,
      async make({ url }) {
        const redis = new Redis(url);
        redis.on('error', (error) => console.error('ioredis:', error));
        await redis.ping();
        const limiter = new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: 'bench:rlflx-blocked',
          points: 100,
          duration: HOUR_MS / 1000,
          inMemoryBlockOnConsumed: 100,
          inMemoryBlockDuration: HOUR_MS / 1000,
        });
        for (let i = 0; i < IDENTIFIERS; i++) {
          await limiter.consume(identifier(i), 100).catch((result: unknown) => result);
          const blocked = await limiter.consume(identifier(i)).then(
            () => false,
            () => true,
          );
          if (!blocked) throw new Error(`${identifier(i)} is not blocked`);
        }
        return {
          // consume() rejects with the limiter's result when the caller is blocked.
          op: (i) => limiter.consume(identifier(i)).catch((result: unknown) => result),
          close: async () => void (await redis.quit()),
        };
      },
    },
    {
      name: 'blockDurationMs + localBlockCache',
      peer: false,
      make: ({ url }) => ours(url, 'bench:rl:blocked-cached:', true),
    },
    {
      name: 'blockDurationMs, no local cache (one script call per check)',
      peer: false,
      make: ({ url }) => ours(url, 'bench:rl:blocked-redis:', false),
    },
  ],
});
