import { connect, escapeGlob, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  all,
  createNodeRateLimit,
  createRateLimiter,
  fixedWindow,
  ipKey,
  type RateLimitResult,
  rateLimitHeaders,
  slidingWindowCounter,
  slidingWindowLog,
  tokenBucket,
} from '../src/index.ts';

const standaloneUrl = topologies()[0]?.url ?? '';

describe('bad input', () => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl-input');

  beforeAll(async () => {
    redis = await connect({ url: standaloneUrl });
  });
  afterAll(async () => {
    await redis?.close();
  });

  const rejects = (argument: string, fn: () => unknown) => {
    let thrown: unknown;
    try {
      fn();
    } catch (err) {
      thrown = err;
    }
    expect(thrown, argument).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as InvalidArgumentError).argument).toBe(argument);
  };

  it.each([
    ['limit', () => slidingWindowLog({ limit: 0, windowMs: 1000 })],
    ['limit', () => slidingWindowCounter({ limit: -1, windowMs: 1000 })],
    ['limit', () => fixedWindow({ limit: Number.NaN, windowMs: 1000 })],
    ['limit', () => fixedWindow({ limit: 1.5, windowMs: 1000 })],
    ['windowMs', () => slidingWindowLog({ limit: 1, windowMs: 0 })],
    ['windowMs', () => slidingWindowCounter({ limit: 1, windowMs: -5 })],
    ['windowMs', () => fixedWindow({ limit: 1, windowMs: Number.NaN })],
    ['windowMs', () => fixedWindow({ limit: 1, windowMs: Number.POSITIVE_INFINITY })],
    ['ratePerSec', () => tokenBucket({ ratePerSec: 0, burst: 1 })],
    ['ratePerSec', () => tokenBucket({ ratePerSec: Number.NaN, burst: 1 })],
    ['burst', () => tokenBucket({ ratePerSec: 1, burst: 0 })],
    ['limit', () => fixedWindow({ limit: 1e21, windowMs: 1000 })],
    ['burst', () => tokenBucket({ ratePerSec: 1, burst: 2 ** 53 })],
    ['limit', () => slidingWindowLog({ limit: 100_001, windowMs: 1000 })],
    ['options', () => slidingWindowLog(undefined as never)],
  ])('refuses a bad %s when the algorithm is made', (argument, make) => rejects(argument, make));

  it('refuses bad limiter options synchronously', () => {
    const algorithm = slidingWindowLog({ limit: 1, windowMs: 1000 });
    rejects('algorithm', () =>
      createRateLimiter({ redis, algorithm: { kind: 'fixedWindow', limit: 1, windowMs: 1 } }),
    );
    rejects('prefix', () => createRateLimiter({ redis, algorithm, prefix: 'a{b}:' }));
    rejects('name', () => createRateLimiter({ redis, algorithm, name: '' }));
    rejects('name', () => createRateLimiter({ redis, algorithm, name: 'naïve' }));
    rejects('failMode', () => createRateLimiter({ redis, algorithm, failMode: 'sideways' as never }));
    rejects('commandTimeoutMs', () => createRateLimiter({ redis, algorithm, commandTimeoutMs: -1 }));
    // A renamed option is refused, naming its new name, rather than silently ignored.
    rejects('timeoutMs', () => createRateLimiter({ redis, algorithm, timeoutMs: 500 } as never));
    rejects('redis', () => createRateLimiter({ redis: undefined as never, algorithm }));
    rejects('limiters', () => all([]));
    const a = createRateLimiter({ redis, algorithm, prefix: `${prefix}a:` });
    rejects('limiters', () => all([a, createRateLimiter({ redis, algorithm, prefix: `${prefix}b:` })]));
    rejects('limiters', () =>
      all([a, createRateLimiter({ redis, algorithm, prefix: `${prefix}a:`, name: 'b' })]),
    );
    rejects('limiter', () => createNodeRateLimit({ limiter: undefined as never }));
    rejects('ipv6Subnet', () => createNodeRateLimit({ limiter: a, ipv6Subnet: 0 }));
    rejects('statusCode', () => createNodeRateLimit({ limiter: a, statusCode: 200 }));
  });

  it('rejects a bad identifier or cost with a typed error and writes nothing', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${prefix}calls:`,
      algorithm: slidingWindowLog({ limit: 5, windowMs: 60_000 }),
    });
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['identifier', () => limiter.limit('')],
      ['identifier', () => limiter.limit(undefined as never)],
      ['identifier', () => limiter.limit(42 as never)],
      ['identifier', () => limiter.limit('x'.repeat(2000))],
      ['identifier', () => limiter.peek('')],
      ['identifier', () => limiter.reset('')],
      ['cost', () => limiter.limit('u', { cost: 0 })],
      ['cost', () => limiter.limit('u', { cost: -1 })],
      ['cost', () => limiter.limit('u', { cost: 1.5 })],
      ['cost', () => limiter.limit('u', { cost: Number.NaN })],
      ['cost', () => limiter.limit('u', { cost: 6 })],
    ];
    for (const [argument, call] of bad) {
      await expect(call(), argument).rejects.toMatchObject({ name: 'InvalidArgumentError', argument });
    }
    const written: string[] = [];
    for await (const key of redis.scan(`${escapeGlob(prefix)}*`)) written.push(key);
    expect(written).toEqual([]);
  });
});

describe('header values and client keys', () => {
  const policy = { name: 'api', algorithm: 'slidingWindowLog' as const, limit: 10, windowMs: 1500 };
  const result = (over: Partial<RateLimitResult>): RateLimitResult => ({
    allowed: true,
    limit: 10,
    remaining: 4,
    resetMs: 1001,
    retryAfterMs: 0,
    serverTimeMs: 0,
    policies: [{ ...policy, allowed: true, remaining: 4, resetMs: 1001, retryAfterMs: 0, nextUnitMs: 1001 }],
    ...over,
  });

  it('writes the draft fields with seconds rounded up and the policy name as a structured string', () => {
    expect(rateLimitHeaders(result({}))).toEqual({
      'RateLimit-Policy': '"api";q=10;w=2',
      RateLimit: '"api";r=4;t=2',
    });
    const refused = result({
      allowed: false,
      remaining: 0,
      retryAfterMs: 250,
      policies: [
        {
          ...policy,
          name: 'say "hi"\\',
          allowed: false,
          remaining: 0,
          resetMs: 900,
          retryAfterMs: 250,
          nextUnitMs: 100,
        },
      ],
    });
    expect(rateLimitHeaders(refused)).toEqual({
      'RateLimit-Policy': '"say \\"hi\\"\\\\";q=10;w=2',
      RateLimit: '"say \\"hi\\"\\\\";r=0;t=1',
      'Retry-After': '1',
    });
    expect(
      rateLimitHeaders(result({ allowed: false, retryAfterMs: 1000, error: new Error('down') })),
    ).toEqual({
      'Retry-After': '1',
    });
  });

  it('keys IPv4-mapped addresses as IPv4 and IPv6 by subnet', () => {
    expect(ipKey('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(ipKey('::FFFF:a00:7')).toBe('10.0.0.7');
    expect(ipKey('192.168.1.1')).toBe('192.168.1.1');
    expect(ipKey('2001:db8:aa:bb01::1')).toBe('2001:db8:aa:bb00::/56');
    expect(ipKey('2001:db8:aa:bbff:1:2:3:4')).toBe('2001:db8:aa:bb00::/56');
    expect(ipKey('2001:db8:aa:bb01::1', 64)).toBe('2001:db8:aa:bb01::/64');
    expect(ipKey('2001:db8:aa:bb01::1', 48)).toBe('2001:db8:aa::/48');
    expect(ipKey('fe80::1%eth0', false)).toBe('fe80::1');
    expect(ipKey('::1')).toBe('::/56');
    expect(ipKey('::1', 128)).toBe('::1');
    expect(ipKey('not-an-ip')).toBe('not-an-ip');
  });
});
