import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeaderboard, type LeaderboardOptions } from '../src/index.ts';
import { BoardModel, random } from './model.ts';

describe.each(topologies())('leaderboard on $name', ({ url }) => {
  let redis: RedisConnection;
  /** Extra connections, so concurrent writes really interleave on the server. */
  let others: RedisConnection[];
  const prefix = uniquePrefix('lb');
  let boardCount = 0;
  const board = <T = unknown>(options: Partial<LeaderboardOptions> = {}) =>
    createLeaderboard<T>({ redis, prefix, name: `b${++boardCount}`, ...options });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 10_000 });
    others = await Promise.all([1, 2, 3].map(() => connect({ url, commandTimeoutMs: 10_000 })));
  });
  afterAll(async () => {
    await Promise.all([redis, ...(others ?? [])].map((c) => c?.close()));
  });

  it('writes a plain board with ZADD (and ZMSCORE for best scores), no script; a dense one with the script', async () => {
    const calls = async () => {
      const info = await redis.send<string>(['INFO', 'commandstats'], { key: `${prefix}{calls}` });
      const count = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return { zadd: count('zadd'), evalsha: count('evalsha') + count('eval') };
    };
    const plain = board();
    await plain.submit('warm', 1);
    let before = await calls();
    expect(await plain.submit('ann', 42)).toBe(42);
    // A member given twice ends with its last score, and both entries say so, as the script does.
    expect(
      await plain.submitMany([
        { member: 'bob', score: 7 },
        { member: 'cyd', score: 9 },
        { member: 'bob', score: 8 },
      ]),
    ).toEqual([8, 9, 8]);
    let after = await calls();
    // On Cluster INFO answers from one master, so only the replies and the order are checked there.
    const standalone = !url.includes('cluster=true');
    if (standalone) expect([after.zadd - before.zadd, after.evalsha - before.evalsha]).toEqual([2, 0]);
    expect((await plain.top(4)).map((e) => [e.member, e.score])).toEqual([
      ['ann', 42],
      ['cyd', 9],
      ['bob', 8],
      ['warm', 1],
    ]);
    // A best-score board: ZADD LT on the stored (lower is better) scores, then ZMSCORE, still no script.
    const best = board({ updatePolicy: 'best' });
    before = await calls();
    expect(await best.submit('ann', 10)).toBe(10);
    expect(await best.submit('ann', 5)).toBe(10);
    expect(
      await best.submitMany([
        { member: 'bob', score: 3 },
        { member: 'ann', score: 12 },
        { member: 'bob', score: 1 },
      ]),
    ).toEqual([3, 12, 3]);
    after = await calls();
    if (standalone) expect([after.zadd - before.zadd, after.evalsha - before.evalsha]).toEqual([3, 0]);
    expect(await best.score('ann')).toBe(12);
    const dense = board({ ties: 'dense' });
    await dense.submit('warm', 1);
    before = await calls();
    await dense.submit('ann', 42);
    after = await calls();
    if (standalone) expect(after.evalsha - before.evalsha).toBe(1);
  });

  it('ranks 100, 90, 90, 80 as 1,2,3,4 (ordinal), 1,2,2,3 (dense) and 1,2,2,4 (competition)', async () => {
    const expected = { ordinal: [1, 2, 3, 4], dense: [1, 2, 2, 3], competition: [1, 2, 2, 4] } as const;
    for (const ties of ['ordinal', 'dense', 'competition'] as const) {
      const b = board({ ties });
      await b.submitMany([
        { member: 'ann', score: 90 },
        { member: 'bob', score: 100 },
        { member: 'cyd', score: 80 },
        { member: 'dan', score: 90 },
      ]);
      expect((await b.top(4)).map((e) => [e.member, e.rank])).toEqual(
        ['bob', 'ann', 'dan', 'cyd'].map((m, i) => [m, expected[ties][i]]),
      );
      expect(await b.rank('dan')).toBe(expected[ties][2]);
      // "Better than X%": equal scores are not below under dense and competition.
      expect(await b.percentile('ann')).toBe(ties === 'ordinal' ? 50 : 25);
      expect((await b.atRank(3))?.member ?? null).toBe(
        { ordinal: 'dan', dense: 'cyd', competition: null }[ties],
      );
    }
  });

  it('orders equal scores by arrival under concurrent submits and increments from 4 connections (earlier-first)', async () => {
    const name = `arrival-${++boardCount}`;
    const options = { prefix, name, ties: 'competition', tieBreak: 'earlier-first' } as const;
    const boards = [redis, ...others].map((conn) => createLeaderboard({ ...options, redis: conn }));
    const waves = [0, 1, 2].map((w) =>
      Array.from({ length: 40 }, (_, i) => `w${w}-${String(i).padStart(2, '0')}`),
    );
    // Each wave submits the same score concurrently over 4 connections, after the previous wave finished.
    for (const wave of waves) await Promise.all(wave.map((m, i) => boards[i % 4]?.submit(m, 100)));
    const b = boards[0]!;
    const order = (await b.top(120)).map((e) => e.member);
    for (let w = 0; w < 3; w++) expect(new Set(order.slice(40 * w, 40 * w + 40))).toEqual(new Set(waves[w]));
    expect(new Set((await b.top(120)).map((e) => e.rank))).toEqual(new Set([1]));

    // Wave 2 reaches 105 first, then wave 0: at 105, wave 2 leads; wave 1 stays at 100 behind them.
    await Promise.all(waves[2]!.map((m, i) => boards[i % 4]?.increment(m, 5)));
    await Promise.all(waves[0]!.map((m, i) => boards[i % 4]?.increment(m, 5)));
    const after = await b.top(120);
    expect(new Set(after.slice(0, 40).map((e) => e.member))).toEqual(new Set(waves[2]));
    expect(new Set(after.slice(40, 80).map((e) => e.member))).toEqual(new Set(waves[0]));
    expect(after[79]?.rank).toBe(1);
    expect(after[80]?.rank).toBe(81);

    // Re-submitting the same score or adding 0 keeps a member's place: it got there first.
    const leader = after[0]!.member;
    await b.submit(leader, 105);
    await b.increment(leader, 0);
    expect((await b.top(1))[0]?.member).toBe(leader);

    // 200 concurrent +1s on one member lose nothing; no two members ever share a stored score.
    await Promise.all(Array.from({ length: 200 }, (_, i) => boards[i % 4]?.increment('racer', 1)));
    expect(await b.score('racer')).toBe(200);
    const stored = (
      await redis.send<Array<[string, number]>>(
        ['ZRANGE', `${prefix}{${name}}:scores`, '0', '-1', 'WITHSCORES'],
        {
          key: `${prefix}{${name}}:scores`,
        },
      )
    ).map(([, s]) => s);
    expect(new Set(stored).size).toBe(121);
  });

  it('stores scores at ±maxScore exactly and rejects anything beyond, writing nothing', async () => {
    for (const order of ['high-to-low', 'low-to-high'] as const) {
      for (const bits of [22, 40]) {
        const b = board({ order, tieBreak: 'earlier-first', tieBreakBits: bits, ties: 'competition' });
        const max = 2 ** (53 - bits) - 1;
        expect(b.maxScore).toBe(max);
        await b.submitMany([
          { member: 'top', score: max },
          { member: 'top-late', score: max },
          { member: 'bottom', score: -max },
          { member: 'bottom-late', score: -max },
          { member: 'zero', score: 0 },
        ]);
        const top = await b.top(5);
        const expected =
          order === 'high-to-low'
            ? ['top', 'top-late', 'zero', 'bottom', 'bottom-late']
            : ['bottom', 'bottom-late', 'zero', 'top', 'top-late'];
        expect(top.map((e) => e.member)).toEqual(expected);
        expect(top.map((e) => e.score)).toEqual(
          expected.map((m) => (m.startsWith('top') ? max : m === 'zero' ? 0 : -max)),
        );
        expect(top.map((e) => e.rank)).toEqual([1, 1, 3, 4, 4]);

        for (const bad of [max + 1, -max - 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(b.submit('x', bad)).rejects.toBeInstanceOf(InvalidArgumentError);
        }
        await expect(b.increment('top', 1)).rejects.toMatchObject({ argument: 'by' });
        await expect(b.increment('bottom', -1)).rejects.toMatchObject({ argument: 'by' });
        expect(await b.score('top')).toBe(max);
        expect(await b.score('bottom')).toBe(-max);
        expect(await b.count()).toBe(5);
      }
    }
    // A batch of increments is checked whole before the first write.
    const inc = board({ updatePolicy: 'increment', tieBreak: 'earlier-first', tieBreakBits: 40 });
    await expect(
      inc.submitMany([
        { member: 'a', score: 10 },
        { member: 'b', score: 8_000 },
        { member: 'b', score: 500 },
      ]),
    ).rejects.toMatchObject({ argument: 'entries[2].score' });
    expect(await inc.count()).toBe(0);
  });

  it('renumbers a score group whose arrival numbers ran out, keeping the order of the model', async () => {
    const b = board({ tieBreak: 'earlier-first', tieBreakBits: 4, ties: 'dense' });
    const model = new BoardModel({
      order: 'high-to-low',
      updatePolicy: 'replace',
      ties: 'dense',
      tieBreak: 'earlier-first',
    });
    const rand = random(7);
    // 16 arrival numbers per score; 300 moves of 10 members among 3 scores renumber each group often.
    for (let i = 0; i < 300; i++) {
      const member = `m${Math.floor(rand() * 10)}`;
      const score = Math.floor(rand() * 3);
      await b.submit(member, score);
      model.submit(member, score);
      if (i % 25 === 0) expect(await b.top(10)).toEqual(model.entries());
    }
    expect(await b.top(10)).toEqual(model.entries());
    // 2 bits number 4 arrivals per score: a fifth member on one score cannot be placed, and says why.
    const tight = board({ tieBreak: 'earlier-first', tieBreakBits: 2 });
    for (const m of ['a', 'b', 'c', 'd']) await tight.submit(m, 1);
    await expect(tight.submit('e', 1)).rejects.toMatchObject({ argument: 'tieBreakBits' });
    expect((await tight.top(5)).map((e) => e.member)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps exactly the best keepTop members, and only their data, under 300 concurrent submits', async () => {
    const name = `keep-${++boardCount}`;
    const options = { prefix, name, keepTop: 10, updatePolicy: 'best', ties: 'dense' } as const;
    const boards = [redis, ...others].map((conn) => createLeaderboard({ ...options, redis: conn }));
    const rand = random(11);
    const scores = Array.from({ length: 300 }, (_, i) => ({
      member: `p${i}`,
      score: Math.floor(rand() * 1e6) * 300 + i,
    }));
    let largestSeen = 0;
    await Promise.all([
      ...scores.map((s, i) => boards[i % 4]?.submit(s.member, s.score, { data: { i } })),
      ...Array.from({ length: 60 }, async (_, i) => {
        largestSeen = Math.max(largestSeen, await boards[i % 4]!.count());
      }),
    ]);
    const best = [...scores].sort((a, b) => b.score - a.score).slice(0, 10);
    const b = boards[0]!;
    expect((await b.top(20, { withData: true })).map((e) => [e.member, e.score, e.rank, e.data])).toEqual(
      best.map((s, i) => [s.member, s.score, i + 1, { i: Number(s.member.slice(1)) }]),
    );
    expect(largestSeen).toBeLessThanOrEqual(10);
    const dataKey = `${prefix}{${name}}:data`;
    expect((await redis.send<string[]>(['HKEYS', dataKey], { key: dataKey })).sort()).toEqual(
      best.map((s) => s.member).sort(),
    );
    const distinctKey = `${prefix}{${name}}:distinct`;
    expect(await redis.send(['ZCARD', distinctKey], { key: distinctKey })).toBe(10);
    // A submission that does not make the cut is trimmed in the same step.
    expect(await b.submit('latecomer', 0)).toBeNull();
  });
});
