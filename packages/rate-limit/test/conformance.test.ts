// The conformance suite every pattern runs (see @redis-patterns/testing): the rate limiter.
import { connect, createRateLimiter, fixedWindow } from '@redis-patterns/rate-limit';
import { describeConformance } from '@redis-patterns/testing';

describeConformance({
  name: 'rate limiter',
  connect,
  create: (redis, prefix, boundMs) =>
    createRateLimiter({
      redis,
      prefix,
      algorithm: fixedWindow({ limit: 100, windowMs: 60_000 }),
      commandTimeoutMs: boundMs,
    }),
  write: async (limiter) => (await limiter.limit('a')).allowed,
  read: async (limiter) => (await limiter.peek('a')).remaining,
  badInput: {
    "limit('')": (limiter) => limiter.limit(''),
    'limit(cost: -1)': (limiter) => limiter.limit('a', { cost: -1 }),
    'reset(null)': (limiter) => limiter.reset(null as never),
  },
  // It fails open by default: a check Redis cannot answer is allowed.
  fallback: { write: true },
});
