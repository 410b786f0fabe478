import { connect, escapeGlob, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeaderboard, type LeaderboardOptions } from '../src/index.ts';

describe.each(topologies())('leaderboard data and input on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lb');
  let boardCount = 0;
  const board = <T = unknown>(options: Partial<LeaderboardOptions> = {}) =>
    createLeaderboard<T>({ redis, prefix, name: `b${++boardCount}`, ...options });
  const keysOf = async (name: string) => {
    const found: string[] = [];
    for await (const key of redis.scan(`${escapeGlob(`${prefix}{${name}}`)}*`)) found.push(key);
    return found.sort();
  };

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('stores member data with the score and returns it in the same round trip when asked', async () => {
    const b = board<{ nick: string }>({ updatePolicy: 'best' });
    await b.submit('u1', 50, { data: { nick: 'ada' } });
    await b.submit('u2', 70, { data: { nick: 'bo' } });
    await b.submit('u3', 60);
    expect(await b.entry('u1', { withData: true })).toEqual({
      member: 'u1',
      score: 50,
      rank: 3,
      data: { nick: 'ada' },
    });
    expect(await b.entry('u1')).toEqual({ member: 'u1', score: 50, rank: 3 });
    expect((await b.around('u3', 1, { withData: true })).map((e) => e.data)).toEqual([
      { nick: 'bo' },
      undefined,
      { nick: 'ada' },
    ]);
    // 'best' turns down a worse score, and its data with it; a better score brings new data.
    expect(await b.submit('u1', 40, { data: { nick: 'ignored' } })).toBe(50);
    expect((await b.entry('u1', { withData: true }))?.data).toEqual({ nick: 'ada' });
    expect(await b.submit('u1', 90, { data: { nick: 'ada2' } })).toBe(90);
    expect((await b.atRank(1, { withData: true }))?.data).toEqual({ nick: 'ada2' });
    expect(await b.remove(['u1', 'nobody'])).toBe(1);
    expect(await b.rankedList(['u1', 'u2'], { withData: true })).toEqual([
      null,
      { member: 'u2', score: 70, rank: 1, data: { nick: 'bo' } },
    ]);
    await b.clear();
    expect(await keysOf(b.name)).toEqual([]);
  });

  it('rejects bad input with InvalidArgumentError before writing anything', async () => {
    const b = board<unknown>({ tieBreak: 'earlier-first', ties: 'dense' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['score', () => b.submit('m', Number.NaN)],
      ['score', () => b.submit('m', Number.POSITIVE_INFINITY)],
      ['score', () => b.submit('m', Number.NEGATIVE_INFINITY)],
      ['score', () => b.submit('m', '5' as unknown as number)],
      ['member', () => b.submit('', 1)],
      ['member', () => b.submit(42 as unknown as string, 1)],
      ['data', () => b.submit('m', 1, { data: 10n })],
      ['data', () => b.submit('m', 1, { data: circular })],
      ['data', () => b.submit('m', 1, { data: () => 1 })],
      ['by', () => b.increment('m', Number.NaN)],
      [
        'entries[1].score',
        () =>
          b.submitMany([
            { member: 'ok', score: 1 },
            { member: 'm', score: Number.NaN },
          ]),
      ],
      ['entries[0].data', () => b.submitMany([{ member: 'm', score: 1, data: 1n }])],
      ['page', () => b.page(0, 10)],
      ['page', () => b.page(1.5, 10)],
      ['size', () => b.page(1, 0)],
      ['radius', () => b.around('m', -1)],
      ['n', () => b.top(0)],
      ['rank', () => b.atRank(0)],
      ['batch', async () => b.iterate({ batch: 0 }).next()],
      ['min', () => b.scoreRange(Number.NaN, 1)],
      ['limit', () => b.scoreRange(0, 1, { limit: 0 })],
      ['members[1]', () => b.remove(['m', ''])],
    ];
    for (const [argument, call] of bad) {
      await expect(call(), argument).rejects.toMatchObject({ name: 'InvalidArgumentError', argument });
    }
    expect(await keysOf(b.name)).toEqual([]);
    // An increment past what a double holds says so (not "NaN outside ±Infinity").
    const counts = board({ updatePolicy: 'increment' });
    await counts.increment('big', Number.MAX_VALUE);
    await expect(counts.increment('big', Number.MAX_VALUE)).rejects.toMatchObject({
      argument: 'by',
      message: expect.stringMatching(/overflow to -?Infinity; nothing was written/),
    });
    expect(await counts.score('big')).toBe(Number.MAX_VALUE);
    expect(() => board({ order: 'up' as never })).toThrow(InvalidArgumentError);
    expect(() => board({ keepTop: 0 })).toThrow(InvalidArgumentError);
    expect(() => board({ tieBreakBits: 60 })).toThrow(InvalidArgumentError);
    expect(() => board({ name: '' })).toThrow(InvalidArgumentError);
  });

  // The Cluster suite covers connect()'s RESP3 replies; a plain client may speak RESP2.
  it.skipIf(url.includes('cluster=true'))(
    'works with a RESP2 node-redis client passed in directly',
    async () => {
      const client = createClient({ url, RESP: 2 });
      await client.connect();
      try {
        const b = createLeaderboard({
          redis: client,
          prefix,
          name: `resp2-${++boardCount}`,
          order: 'low-to-high',
        });
        await b.submitMany([
          { member: 'a', score: 2.5 },
          { member: 'b', score: 1.25 },
        ]);
        expect(await b.top(2)).toEqual([
          { member: 'b', score: 1.25, rank: 1 },
          { member: 'a', score: 2.5, rank: 2 },
        ]);
        expect(await b.score('a')).toBe(2.5);
      } finally {
        await client.close();
      }
    },
  );
});
