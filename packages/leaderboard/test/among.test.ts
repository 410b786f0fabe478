import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmongOptions,
  createLeaderboard,
  createPeriodicLeaderboard,
  type LeaderboardOrder,
  type TieBreak,
  type TieRule,
} from '../src/index.ts';
import { BoardModel, random } from './model.ts';

const orders: LeaderboardOrder[] = ['high-to-low', 'low-to-high'];
const tieRules: TieRule[] = ['ordinal', 'dense', 'competition'];
const tieBreaks: TieBreak[] = ['none', 'earlier-first'];
const combos = orders.flatMap((order) =>
  tieRules.flatMap((ties) => tieBreaks.map((tieBreak) => ({ order, ties, tieBreak }))),
);

describe.each(topologies())('among (a board over a set of members) on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lb-among');
  let boardCount = 0;

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 20_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it.each(combos.map((c, i) => ({ ...c, seed: 7_000 + i })))(
    '$order $ties $tieBreak: 150 random sets rank, top and locate as the model restricted to the set',
    async ({ order, ties, tieBreak, seed }) => {
      const rand = random(seed);
      const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)] as T;
      const board = createLeaderboard<{ n: number }>({
        redis,
        prefix,
        name: `model-${seed}`,
        order,
        updatePolicy: 'replace',
        ties,
        tieBreak,
      });
      const model = new BoardModel({ order, updatePolicy: 'replace', ties, tieBreak });
      // ~6 members per score, so sets hold ties often; ids include bytes above ASCII.
      const members = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? `é${i}` : `m${i}`));
      const entries = members.map((member, i) => ({
        member,
        score: Math.floor(rand() * 50) - 25,
        ...(i % 3 === 0 ? { data: { n: i } } : {}),
      }));
      await board.submitMany(entries);
      model.submitMany(entries);
      // A second wave moves some members onto scores others reached first (earlier-first order).
      const moves = Array.from({ length: 100 }, () => ({
        member: pick(members),
        score: Math.floor(rand() * 50) - 25,
      }));
      await board.submitMany(moves);
      model.submitMany(moves);

      const calls = Array.from({ length: 150 }, (_, i) => {
        const size = pick([0, 1, 2, 5, 20, 60, 200]);
        // Members not on the board and repeats are part of the sets too.
        const set = Array.from({ length: size }, () => (rand() < 0.1 ? `absent-${i}` : pick(members)));
        const member = pick([undefined, pick(members), set[0], 'nobody']);
        const options: AmongOptions = {
          ...(member === undefined ? {} : { member }),
          radius: pick([0, 1, 2, 5]),
          fillBorders: rand() < 0.5,
          top: pick([0, 1, 3, 10, 300]),
          withData: i % 4 === 0,
        };
        return { set, options };
      });
      const got = await Promise.all(calls.map((c) => board.among(c.set, c.options)));
      expect(got).toEqual(calls.map((c) => model.among(c.set, c.options)));
      // Sanity: the sets held ties and the checks located members.
      expect(got.filter((s) => s.entry !== null).length).toBeGreaterThan(50);
    },
  );

  it('orders a set exactly as the full board orders it: ids by bytes (not UTF-16), arrivals on earlier-first', async () => {
    // By UTF-16 code units '\u{1F600}' (a surrogate pair, 0xD83D...) sorts before '\uFFFF'; by UTF-8
    // bytes (0xF0... vs 0xEF...), as Redis orders equal scores, it sorts after.
    const ids = ['\u{1F600}', '\uFFFF', 'é', 'z', 'Z', 'a'];
    const plain = createLeaderboard({ redis, prefix, name: `bytes-${++boardCount}`, ties: 'competition' });
    await plain.submitMany(ids.map((member) => ({ member, score: 5 })));
    await plain.submit('top', 9);
    const full = (await plain.top(10)).map((e) => e.member);
    expect(full).toEqual(['top', 'Z', 'a', 'z', 'é', '\uFFFF', '\u{1F600}']);
    const subset = await plain.among(['\u{1F600}', 'é', '\uFFFF', 'Z'], { member: 'é', radius: 1 });
    expect(subset.top.map((e) => [e.member, e.rank])).toEqual([
      ['Z', 1],
      ['é', 1],
      ['\uFFFF', 1],
      ['\u{1F600}', 1],
    ]);
    expect(subset.around.map((e) => e.member)).toEqual(['Z', 'é', '\uFFFF']);

    const arrival = createLeaderboard({
      redis,
      prefix,
      name: `arrival-${++boardCount}`,
      tieBreak: 'earlier-first',
    });
    for (const member of ['c', 'a', 'b', 'd']) await arrival.submit(member, 100);
    await arrival.submit('e', 200);
    const set = await arrival.among(['a', 'b', 'c', 'e'], { member: 'b', radius: 5 });
    expect(set.top.map((e) => [e.member, e.rank])).toEqual([
      ['e', 1],
      ['c', 2],
      ['a', 3],
      ['b', 4],
    ]);
    expect(set.entry).toEqual({ member: 'b', score: 100, rank: 4 });
  });

  it('ranks the asking member among its friends even when the list leaves it out, and skips absent ones', async () => {
    const board = createLeaderboard<{ nick: string }>({
      redis,
      prefix,
      name: `friends-${++boardCount}`,
      ties: 'dense',
    });
    await board.submitMany([
      { member: 'me', score: 50, data: { nick: 'me' } },
      { member: 'f1', score: 70, data: { nick: 'one' } },
      { member: 'f2', score: 50 },
      { member: 'f3', score: 10 },
      { member: 'stranger', score: 60 },
    ]);
    const friends = await board.among(['f1', 'f2', 'f3', 'f1', 'gone'], {
      member: 'me',
      radius: 1,
      top: 2,
      withData: true,
    });
    expect(friends).toEqual({
      count: 4,
      top: [
        { member: 'f1', score: 70, rank: 1, data: { nick: 'one' } },
        { member: 'f2', score: 50, rank: 2, data: undefined },
      ],
      entry: { member: 'me', score: 50, rank: 2, data: { nick: 'me' } },
      around: [
        { member: 'f2', score: 50, rank: 2, data: undefined },
        { member: 'me', score: 50, rank: 2, data: { nick: 'me' } },
        { member: 'f3', score: 10, rank: 3, data: undefined },
      ],
    });
    // On the full board 'me' is 3rd distinct score (stranger's 60 is above): the set does not see it.
    expect(await board.rank('me')).toBe(3);
    expect(await board.among(['gone'], { member: 'nobody' })).toEqual({
      count: 0,
      top: [],
      entry: null,
      around: [],
    });
  });

  it('works on periodic cycles and aggregates, which are boards too', async () => {
    const now = new Date('2099-06-15T12:00:00Z');
    const weekly = createPeriodicLeaderboard({
      redis,
      prefix,
      name: `weekly-${++boardCount}`,
      cycle: 'weekly',
      updatePolicy: 'increment',
      ties: 'competition',
      tieBreak: 'earlier-first',
      now: () => now,
    });
    await weekly.submitMany([
      { member: 'a', score: 3 },
      { member: 'b', score: 5 },
      { member: 'c', score: 3 },
    ]);
    const week = await weekly.current().among(['a', 'c', 'x'], { member: 'c', radius: 1 });
    expect(week.around.map((e) => [e.member, e.rank])).toEqual([
      ['a', 1],
      ['c', 1],
    ]);
    const last7 = await weekly.aggregate(2);
    expect((await last7.among(['b', 'c'], { top: 5 })).top.map((e) => [e.member, e.score, e.rank])).toEqual([
      ['b', 5, 1],
      ['c', 3, 2],
    ]);
  });

  it('ranks 10,000 members in one call and refuses 10,001 with InvalidArgumentError before sending', async () => {
    const board = createLeaderboard({ redis, prefix, name: `big-${++boardCount}`, ties: 'competition' });
    const members = Array.from({ length: 10_000 }, (_, i) => `u${i}`);
    await board.submitMany(members.map((member, i) => ({ member, score: i % 100 })));
    const started = Date.now();
    const all = await board.among(members, { member: 'u0', top: 10_000 });
    const tookMs = Date.now() - started;
    expect(all.count).toBe(10_000);
    expect(all.top.map((e) => e.member)).toEqual((await board.top(10_000)).map((e) => e.member));
    expect(all.entry?.rank).toBe(9_901); // 9,900 members score above 0
    expect(tookMs).toBeLessThan(5_000);

    await expect(board.among([...members, 'one-more'])).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'members',
    });
    // Repeats count once: 10,000 distinct members in 20,000 ids is allowed.
    expect((await board.among([...members, ...members], { top: 1 })).count).toBe(10_000);
  });

  it('refuses bad input with InvalidArgumentError', async () => {
    const board = createLeaderboard({ redis, prefix, name: `bad-${++boardCount}` });
    const bad: Array<[unknown, unknown]> = [
      ['not-an-array', undefined],
      [[''], undefined],
      [['a'], { member: '' }],
      [['a'], { radius: -1 }],
      [['a'], { top: 1.5 }],
      [['a'], { withData: 'yes' }],
      [['a'], { top: null }],
    ];
    for (const [members, options] of bad) {
      await expect(board.among(members as string[], options as AmongOptions)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
  });
});
