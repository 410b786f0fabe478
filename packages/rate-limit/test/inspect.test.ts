import { setTimeout as sleep } from 'node:timers/promises';
import { connect, escapeGlob, type RedisConnection, slotOf } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPOCH_SECONDS } from '../src/algorithms.ts';
import {
  type Algorithm,
  all,
  createRateLimiter,
  createRateLimitInspector,
  fixedWindow,
  InvalidArgumentError,
  type RateLimitKey,
  slidingWindowCounter,
  slidingWindowLog,
  tokenBucket,
} from '../src/index.ts';
import { scripts } from '../src/lua.generated.ts';

it('counts time in the inspect script from the epoch of the other scripts', () => {
  expect(scripts.inspect.source).toMatch(
    new RegExp(`local now = \\(t\\[1\\] - ${EPOCH_SECONDS}\\) \\* 1000000 \\+ t\\[2\\]`),
  );
  expect(scripts.inspect.source.match(/\d{13}/g)).toEqual([
    String(EPOCH_SECONDS * 1000),
    String(EPOCH_SECONDS * 1000),
  ]);
});

describe.each(topologies())('rate-limit inspector on $name', ({ url, name: topology }) => {
  let redis: RedisConnection;
  const base = uniquePrefix('rl-insp');
  let n = 0;
  const fresh = () => `${base}${n++}:`;
  const keysUnder = async (prefix: string) => {
    const found: string[] = [];
    for await (const key of redis.scan(`${escapeGlob(prefix)}*`)) found.push(key);
    return found.sort();
  };

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  const algorithms: Array<[string, () => Algorithm, number]> = [
    ['slidingWindowLog', () => slidingWindowLog({ limit: 10, windowMs: 600_000 }), 3],
    ['slidingWindowCounter', () => slidingWindowCounter({ limit: 10, windowMs: 86_400_000 }), 4],
    ['fixedWindow', () => fixedWindow({ limit: 10, windowMs: 600_000 }), 5],
    ['tokenBucket', () => tokenBucket({ ratePerSec: 0.001, burst: 10 }), 6],
  ];

  it.each(algorithms)(
    'reads back what limit() charged under %s, as peek() reports it',
    async (kind, make, cost) => {
      const prefix = fresh();
      const algorithm = make();
      const limiter = createRateLimiter({ redis, prefix, algorithm });
      await limiter.limit('u1', { cost });
      const peek = await limiter.peek('u1');
      const inspector = createRateLimitInspector({ redis, prefix });
      const state = await inspector.get('u1', { algorithms: [algorithm] });
      const mine = state[kind as 'fixedWindow'];
      expect(mine).toMatchObject({ used: cost, limit: 10, remaining: 10 - cost, source: 'argument' });
      expect(mine?.remaining).toBe(peek.remaining);
      expect(Math.abs((mine?.resetMs as number) - peek.resetMs)).toBeLessThanOrEqual(50);
      // Only this algorithm has state, and nobody is blocked.
      const others = ['slidingWindowLog', 'slidingWindowCounter', 'fixedWindow', 'tokenBucket'].filter(
        (k) => k !== kind,
      );
      for (const other of others) expect(state[other as 'fixedWindow']).toBeUndefined();
      expect(state.blocks).toEqual([]);
      expect(Math.abs(state.serverTime - Date.now())).toBeLessThan(5_000);
    },
  );

  it('reads the windows from Redis when no configuration is given', async () => {
    const prefix = fresh();
    const limiters = [
      slidingWindowLog({ limit: 5, windowMs: 60_000 }),
      slidingWindowCounter({ limit: 5, windowMs: 120_000 }),
      fixedWindow({ limit: 5, windowMs: 30_000 }),
      tokenBucket({ ratePerSec: 1, burst: 5 }),
    ].map((algorithm) => createRateLimiter({ redis, prefix, algorithm }));
    for (const limiter of limiters) await limiter.limit('u1', { cost: 2 });
    const state = await createRateLimitInspector({ redis, prefix }).get('u1');
    expect(state.slidingWindowLog).toMatchObject({
      used: 2,
      stored: 2,
      windowMs: 60_000,
      limit: undefined,
      source: 'redis',
    });
    expect(state.slidingWindowCounter).toMatchObject({ used: 2, current: 2, previous: 0, windowMs: 120_000 });
    expect(state.fixedWindow).toMatchObject({ used: 2, count: 2, remaining: undefined });
    const fixed = state.fixedWindow;
    expect(
      Math.abs((fixed?.windowEnd as number) - (fixed?.windowStart as number) - 30_000),
    ).toBeLessThanOrEqual(1);
    // The bucket's tokens need its rate and burst; the time until it is full does not.
    expect(state.tokenBucket).toMatchObject({ tokens: undefined, used: undefined });
    expect(state.tokenBucket?.resetMs).toBeGreaterThan(1_800);
    expect(state.tokenBucket?.resetMs).toBeLessThanOrEqual(2_000);
  });

  it('counts only live log entries and never drops the expired ones itself', async () => {
    const prefix = fresh();
    const algorithm = slidingWindowLog({ limit: 5, windowMs: 300 });
    const limiter = createRateLimiter({ redis, prefix, algorithm });
    await limiter.limit('u1', { cost: 2 });
    await sleep(200);
    await limiter.limit('u1');
    // The first two have left the window; nothing has popped them yet.
    await sleep(150);
    const inspector = createRateLimitInspector({ redis, prefix });
    const state = await inspector.get('u1', { algorithms: [algorithm] });
    expect(state.slidingWindowLog).toMatchObject({ used: 1, stored: 3, remaining: 4 });
    expect(state.slidingWindowLog?.nextUnitMs).toBeLessThanOrEqual(300);
    // Without the window, it is read from the key (its expiry is a window after the newest entry).
    expect((await inspector.get('u1')).slidingWindowLog).toMatchObject({ used: 1, stored: 3, windowMs: 300 });
    expect(await redis.send(['LLEN', `${prefix}{u1}:loglist`], { key: `${prefix}{u1}:loglist` })).toBe(3);
  });

  it('shows a block set by blockDurationMs with its time left, and reset() lifts it', async () => {
    const prefix = fresh();
    const algorithm = fixedWindow({ limit: 1, windowMs: 60_000 });
    const limiter = createRateLimiter({ redis, prefix, algorithm, blockDurationMs: 5_000 });
    await limiter.limit('u1');
    expect((await limiter.limit('u1')).blockedMs).toBe(5_000);
    const inspector = createRateLimitInspector({ redis, prefix });
    const { blocks } = await inspector.get('u1');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]?.algorithm).toBe('fixedWindow');
    expect(blocks[0]?.leftMs).toBeGreaterThan(4_000);
    expect(blocks[0]?.leftMs).toBeLessThanOrEqual(5_000);
    expect(await inspector.reset('u1')).toBe(2);
    const after = await inspector.get('u1');
    expect(after.blocks).toEqual([]);
    expect(after.fixedWindow).toBeUndefined();
    expect((await limiter.limit('u1')).allowed).toBe(true);
  });

  it('lists every identifier over several pages, with its algorithm, and nothing of another prefix', async () => {
    const prefix = fresh();
    // Starts with `prefix`: a SCAN of `prefix*` alone would find its keys.
    const other = `${prefix}x:`;
    const fixed = createRateLimiter({
      redis,
      prefix,
      algorithm: fixedWindow({ limit: 1, windowMs: 60_000 }),
      blockDurationMs: 60_000,
    });
    const bucket = createRateLimiter({
      redis,
      prefix,
      name: 'b',
      algorithm: tokenBucket({ ratePerSec: 1, burst: 3 }),
    });
    const foreign = createRateLimiter({
      redis,
      prefix: other,
      algorithm: fixedWindow({ limit: 5, windowMs: 60_000 }),
    });
    const ids = Array.from({ length: 30 }, (_, i) => `user:{${i}}*`);
    for (const id of ids) await Promise.all([fixed.limit(id), bucket.limit(id), foreign.limit(id)]);
    await fixed.limit('u0');
    await fixed.limit('u0'); // refused: blocked
    const combined = all([bucket, fixed], { blockDurationMs: 60_000 });
    for (let i = 0; i < 4; i++) await combined.limit('u1');
    const inspector = createRateLimitInspector({ redis, prefix });
    const items: RateLimitKey[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await inspector.list({ cursor, count: 7 });
      expect(page.items.length).toBeLessThanOrEqual(7);
      items.push(...page.items);
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBeGreaterThan(2);
    const byKey = new Map(items.map((i) => [i.key, i]));
    expect([...byKey.keys()].sort()).toEqual(
      await keysUnder(prefix).then((k) => k.filter((key) => !key.startsWith(other))),
    );
    for (const id of ids) {
      expect(byKey.get(`${prefix}{${id.replace('{', '%7B').replace('}', '%7D')}}:fixed`)).toEqual({
        key: `${prefix}{user:%7B${id.slice(6, -2)}%7D*}:fixed`,
        identifier: id,
        kind: 'state',
        algorithms: ['fixedWindow'],
      });
    }
    expect(items.filter((i) => i.algorithms[0] === 'tokenBucket' && i.kind === 'state')).toHaveLength(31);
    expect(byKey.get(`${prefix}{u0}:fixed:block`)).toMatchObject({
      identifier: 'u0',
      kind: 'block',
      algorithms: ['fixedWindow'],
    });
    expect(byKey.get(`${prefix}{u1}:all:gcra:fixed:block`)).toMatchObject({
      identifier: 'u1',
      kind: 'block',
      algorithms: ['tokenBucket', 'fixedWindow'],
    });
    if (topology === 'cluster') {
      const masters = new Set(items.map((i) => Math.floor(slotOf(i.key) / 5462)));
      expect(masters.size).toBeGreaterThan(1);
    }
  });

  it('resets one identifier of its prefix only', async () => {
    const prefix = fresh();
    const other = `${prefix}x:`;
    const algorithm = slidingWindowLog({ limit: 3, windowMs: 60_000 });
    const mine = createRateLimiter({ redis, prefix, algorithm });
    const theirs = createRateLimiter({ redis, prefix: other, algorithm });
    await Promise.all([mine.limit('u1'), mine.limit('u2'), theirs.limit('u1')]);
    const inspector = createRateLimitInspector({ redis, prefix });
    expect(await inspector.reset('u1')).toBe(1);
    expect(await inspector.reset('u1')).toBe(0);
    expect((await inspector.get('u1')).slidingWindowLog).toBeUndefined();
    expect((await inspector.get('u2')).slidingWindowLog?.used).toBe(1);
    expect((await createRateLimitInspector({ redis, prefix: other }).get('u1')).slidingWindowLog?.used).toBe(
      1,
    );
  });

  it('rejects bad input with InvalidArgumentError before anything is sent', async () => {
    const prefix = fresh();
    const limiter = createRateLimiter({
      redis,
      prefix,
      algorithm: fixedWindow({ limit: 3, windowMs: 60_000 }),
    });
    await limiter.limit('u1');
    const before = await keysUnder(prefix);
    const inspector = createRateLimitInspector({ redis, prefix });
    const bad: Array<() => Promise<unknown>> = [
      () => inspector.get(''),
      () => inspector.get('u1', { algorithms: [{ kind: 'fixedWindow', limit: 1, windowMs: 1 }] }),
      () =>
        inspector.get('u1', {
          algorithms: [fixedWindow({ limit: 1, windowMs: 1 }), fixedWindow({ limit: 2, windowMs: 1 })],
        }),
      () => inspector.reset(''),
      () => inspector.reset(42 as unknown as string),
      () => inspector.list({ count: 0 }),
      () => inspector.list({ count: 1001 }),
      () => inspector.list({ cursor: 'not a cursor' }),
      () => inspector.list({ cursor: Buffer.from('["",  "1", -1]').toString('base64url') }),
    ];
    for (const call of bad) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => createRateLimitInspector({ redis, prefix: 'a{b' })).toThrow(InvalidArgumentError);
    expect(await keysUnder(prefix)).toEqual(before);
    expect((await limiter.peek('u1')).remaining).toBe(2);
    expect(await inspector.ping()).toBeGreaterThanOrEqual(0);
    await inspector.close();
    await expect(inspector.get('u1')).rejects.toThrow(/closed/);
    await expect(inspector.ping()).rejects.toThrow(/closed/);
  });
});
