import { connect, defineScript } from '@redis-patterns/connection';
import {
  type Algorithm,
  all,
  createRateLimiter,
  fixedWindow,
  slidingWindowCounter,
  slidingWindowLog,
  tokenBucket,
} from '@redis-patterns/rate-limit';
import { Redis } from 'ioredis';
import { RedisStore as RateLimitRedisStore } from 'rate-limit-redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { createClient } from 'redis';
import { type BenchContext, defineScenario, type Runner } from '../scenario.ts';

// 1,000 identifiers, 100 calls per second each: near the limit at the measured rates, so the
// rows do a realistic mix of admitted and refused checks, and the log holds at most 100 entries a key.
const IDENTIFIERS = 1000;
const identifier = (i: number) => `user${i % IDENTIFIERS}`;

/** Our limiter with one algorithm (or several checked together), on a connection of its own. */
async function ours(url: string, prefix: string, algorithms: Algorithm[]): Promise<Runner> {
  const redis = await connect({ url });
  const limiters = algorithms.map((algorithm, i) =>
    createRateLimiter({ redis, prefix: `${prefix}${i}:`, name: `p${i}`, algorithm }),
  );
  const limiter = limiters.length === 1 ? (limiters[0] as (typeof limiters)[0]) : all(limiters);
  return { op: (i) => limiter.limit(identifier(i)), close: () => redis.close() };
}

/**
 * The least a check on the server's clock can cost: one script that reads TIME and increments one
 * field, with no decision, no refusal and no expiry. No limiter that reads TIME can do less per
 * check, so it is the ceiling of our rows at 1 in flight, where latency decides.
 */
const bareCheck = defineScript(
  'benchBareCheck',
  `local t = redis.call('TIME')
return { t[1], t[2], redis.call('HINCRBY', KEYS[1], 'c', 1) }`,
);

async function ceiling(url: string): Promise<Runner> {
  const redis = await connect({ url });
  return {
    op: (i) => redis.runScript(bareCheck, [`bench:rl:bare:{${identifier(i)}}`], []),
    close: () => redis.close(),
  };
}

function row(name: string, prefix: string, algorithms: () => Algorithm[]) {
  return {
    name,
    peer: false,
    make: ({ url }: BenchContext) => ours(url, prefix, algorithms()),
  };
}

export default defineScenario({
  name: 'rate-limit',
  description:
    'One rate-limit check (100 per second per identifier, 1,000 identifiers): one round trip each; cmds/op counts the commands run inside the script too.',
  inflight: [1, 50],
  rows: [
    {
      // The peer's fixed window: one Lua call (SET NX, INCRBY, PTTL) per consume, on ioredis.
      name: 'rate-limiter-flexible RateLimiterRedis',
      peer: true,
      async make({ url }) {
        const redis = new Redis(url);
        redis.on('error', (error) => console.error('ioredis:', error));
        await redis.ping();
        const limiter = new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: 'bench:rlflx',
          points: 100,
          duration: 1,
        });
        return {
          // consume() rejects with the limiter's result when the caller is over the limit.
          op: (i) => limiter.consume(identifier(i)).catch((result: unknown) => result),
          close: async () => void (await redis.quit()),
        };
      },
    },
    {
      // express-rate-limit's Redis store, the fixed window of the app bench's peers: one Lua call
      // per hit (PTTL, then INCR, or SET with PX when a window starts), on node-redis. It counts
      // refused hits too, and express-rate-limit decides from the count it returns.
      name: 'rate-limit-redis (express-rate-limit store)',
      peer: true,
      async make({ url }) {
        const client = createClient({ url });
        client.on('error', (error) => console.error('node-redis:', error));
        await client.connect();
        const store = new RateLimitRedisStore({
          prefix: 'bench:rlr:',
          sendCommand: (...args: string[]) => client.sendCommand(args),
        });
        await store.init({ windowMs: 1000 } as Parameters<typeof store.init>[0]);
        return { op: (i) => store.increment(identifier(i)), close: () => client.close() };
      },
    },
    row('fixed window', 'bench:rl:fw:', () => [fixedWindow({ limit: 100, windowMs: 1000 })]),
    row('sliding window counter', 'bench:rl:swc:', () => [
      slidingWindowCounter({ limit: 100, windowMs: 1000 }),
    ]),
    row('token bucket (GCRA)', 'bench:rl:gcra:', () => [tokenBucket({ ratePerSec: 100, burst: 100 })]),
    row('sliding window log (exact)', 'bench:rl:log:', () => [
      slidingWindowLog({ limit: 100, windowMs: 1000 }),
    ]),
    {
      name: 'ceiling: bare server-clock check (TIME + HINCRBY, no decision)',
      peer: false,
      make: ({ url }: BenchContext) => ceiling(url),
    },
    row('all([fixed 100/s, counter 1000/min])', 'bench:rl:all:', () => [
      fixedWindow({ limit: 100, windowMs: 1000 }),
      slidingWindowCounter({ limit: 1000, windowMs: 60_000 }),
    ]),
  ],
});
