import { connect, InvalidArgumentError, type RedisConnection, slotOf } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cycle,
  createPeriodicLeaderboard,
  type LeaderboardOrder,
  type TieBreak,
  type TieRule,
  utcCycles,
} from '../src/index.ts';
import { BoardModel, random } from './model.ts';

const utc = (iso: string) => new Date(`${iso}Z`);

describe('UTC cycles', () => {
  it('switch days at midnight UTC', () => {
    expect(utcCycles.daily(utc('2099-03-31T23:59:59.999')).id).toBe('2099-03-31');
    expect(utcCycles.daily(utc('2099-04-01T00:00:00.000'))).toEqual({
      id: '2099-04-01',
      start: utc('2099-04-01T00:00:00'),
      end: utc('2099-04-02T00:00:00'),
    });
  });

  it('number weeks as ISO 8601 does, Monday to Monday, across year ends', () => {
    const cases: Array<[string, string, string]> = [
      ['2021-01-03T12:00:00', '2020-W53', '2020-12-28'], // Sunday: still the last week of 2020
      ['2021-01-04T00:00:00', '2021-W01', '2021-01-04'],
      ['2024-12-30T08:00:00', '2025-W01', '2024-12-30'], // Monday of 2025's first week
      ['2026-12-31T23:59:59', '2026-W53', '2026-12-28'],
      ['2027-01-01T00:00:00', '2026-W53', '2026-12-28'],
      ['2027-01-04T00:00:00', '2027-W01', '2027-01-04'],
    ];
    for (const [at, id, monday] of cases) {
      const cycle = utcCycles.weekly(utc(at));
      expect([cycle.id, cycle.start.toISOString().slice(0, 10)], at).toEqual([id, monday]);
      expect(cycle.end.getTime() - cycle.start.getTime()).toBe(7 * 86_400_000);
    }
  });

  it('switch months on the 1st, through December and leap Februaries', () => {
    expect(utcCycles.monthly(utc('2099-12-31T23:59:59'))).toEqual({
      id: '2099-12',
      start: utc('2099-12-01T00:00:00'),
      end: utc('2100-01-01T00:00:00'),
    });
    expect(utcCycles.monthly(utc('2096-02-29T10:00:00')).end).toEqual(utc('2096-03-01T00:00:00'));
  });
});

describe.each(topologies())('periodic leaderboard on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lb-periodic');
  let count = 0;
  const pexpiretime = (key: string) => redis.send<number>(['PEXPIRETIME', key], { key });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('writes to the current cycle, switches at the boundary and expires each cycle keepCycles later', async () => {
    let now = utc('2099-03-31T23:59:59.900');
    const name = `daily-${++count}`;
    const board = createPeriodicLeaderboard<{ nick: string }>({
      redis,
      prefix,
      name,
      cycle: 'daily',
      keepCycles: 2,
      now: () => now,
    });
    await board.submit('ann', 10, { data: { nick: 'a' } });
    now = utc('2099-04-01T00:00:00.100');
    await board.submit('ann', 5);
    await board.increment('bob', 7);
    expect(board.current().cycle.id).toBe('2099-04-01');
    expect((await board.current().top(5)).map((e) => [e.member, e.score])).toEqual([
      ['bob', 7],
      ['ann', 5],
    ]);
    const march = board.at(utc('2099-03-31T12:00:00'));
    expect(await march.top(5, { withData: true })).toEqual([
      { member: 'ann', score: 10, rank: 1, data: { nick: 'a' } },
    ]);

    // PEXPIREAT = end of the cycle + 2 more days, on every key the cycle wrote.
    expect(march.expiresAt).toEqual(utc('2099-04-03T00:00:00'));
    const base = `${prefix}{${name}}:cycle:2099-03-31:`;
    for (const part of ['scores', 'data'])
      expect(await pexpiretime(base + part)).toBe(utc('2099-04-03T00:00:00').getTime());
    expect(await pexpiretime(`${prefix}{${name}}:cycle:2099-04-01:scores`)).toBe(
      utc('2099-04-04T00:00:00').getTime(),
    );
    // Every cycle shares the board's hash tag: one slot, so aggregation works on Cluster.
    expect(slotOf(`${base}scores`)).toBe(slotOf(`${prefix}{${name}}:cycle:2099-04-01:scores`));

    // Once its expiry has passed, a cycle refuses writes instead of writing keys that vanish at once.
    now = utc('2099-04-03T00:00:00.000');
    await expect(march.submit('late', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await march.count()).toBe(1);
  });

  it('lets old cycles expire by themselves on the real clock', async () => {
    const periodMs = 300;
    const cycle = (at: Date): Cycle => {
      const n = Math.floor(at.getTime() / periodMs);
      return { id: `p${n}`, start: new Date(n * periodMs), end: new Date((n + 1) * periodMs) };
    };
    const board = createPeriodicLeaderboard({ redis, prefix, name: `real-${++count}`, cycle, keepCycles: 1 });
    // Take the cycle first: on a loaded machine the period may turn between a board-level
    // submit and a later current(), which would then name the next, empty cycle.
    const first = board.current();
    await first.submit('ann', 1);
    expect(await first.count()).toBe(1);
    // Expiry is at the end of the next period; wait well past it (slack for a loaded machine).
    await new Promise((resolve) => setTimeout(resolve, first.expiresAt.getTime() - Date.now() + 250));
    expect(await first.count()).toBe(0);
  });

  const aggregateCases: Array<{
    order: LeaderboardOrder;
    tieBreak: TieBreak;
    ties: TieRule;
    mode: 'sum' | 'max' | 'min';
  }> = [
    { order: 'high-to-low', tieBreak: 'none', ties: 'competition', mode: 'sum' },
    { order: 'high-to-low', tieBreak: 'earlier-first', ties: 'dense', mode: 'sum' },
    { order: 'high-to-low', tieBreak: 'none', ties: 'dense', mode: 'max' },
    { order: 'low-to-high', tieBreak: 'earlier-first', ties: 'ordinal', mode: 'min' },
    { order: 'low-to-high', tieBreak: 'none', ties: 'ordinal', mode: 'max' },
    { order: 'high-to-low', tieBreak: 'earlier-first', ties: 'competition', mode: 'min' },
  ];

  it.each(aggregateCases)(
    'aggregates 7 daily cycles ($mode, $order, $tieBreak, $ties) exactly as the model combines them',
    async ({ order, tieBreak, ties, mode }) => {
      const rand = random(count + 99);
      let now = utc('2099-06-01T10:00:00');
      const name = `agg-${++count}`;
      const options = {
        redis,
        prefix,
        name,
        order,
        tieBreak,
        ties,
        cycle: 'daily',
        keepCycles: 7,
        now: () => now,
      } as const;
      const board = createPeriodicLeaderboard<{ day: number }>({ ...options, updatePolicy: 'increment' });
      const perDay: Array<Map<string, number>> = [];
      for (let day = 0; day < 7; day++) {
        now = new Date(utc('2099-06-01T10:00:00').getTime() + day * 86_400_000);
        const scores = new Map<string, number>();
        for (let i = 0; i < 150; i++) {
          const member = `m${Math.floor(rand() * 60)}`;
          const by = Math.floor(rand() * 10) - 2;
          scores.set(member, (scores.get(member) ?? 0) + by);
          await board.increment(member, by, { data: { day } });
        }
        perDay.push(scores);
      }
      // Weights apply newest cycle first when cycles is a number: today weighs 7, six days ago 1.
      const weights = [7, 6, 5, 4, 3, 2, 1];
      const result = await board.aggregate(7, { weights, aggregate: mode, withData: true, ttlMs: 30_000 });

      const combined = new Map<string, { score: number; day: number }>();
      perDay.forEach((scores, day) => {
        for (const [member, score] of scores) {
          const weighted = score * (weights[6 - day] as number);
          const held = combined.get(member);
          const better =
            held === undefined ||
            (mode === 'sum' ? true : mode === 'max' ? weighted > held.score : weighted < held.score);
          const total = held === undefined || mode !== 'sum' ? weighted : held.score + weighted;
          combined.set(member, { score: better ? total : (held?.score as number), day });
        }
      });
      // An aggregate has no arrival order: equal totals go by member id.
      const model = new BoardModel({ order, updatePolicy: 'replace', ties, tieBreak: 'none' });
      for (const [member, { score, day }] of combined) model.submit(member, score, { day });
      expect(await result.top(100, { withData: true })).toEqual(model.entries(true));
      expect(await result.rank('m1')).toBe(model.entries().find((e) => e.member === 'm1')?.rank ?? null);

      const pttl = await redis.send<number>(
        [
          'PTTL',
          `${prefix}{${name}}:agg:${mode}:2099-06-01,2099-06-02,2099-06-03,2099-06-04,2099-06-05,2099-06-06,2099-06-07:w1,2,3,4,5,6,7:data:scores`,
        ],
        {
          key: `${prefix}{${name}}:x`,
        },
      );
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(30_000);

      // The same cycles picked by date, unweighted.
      const days = [0, 2, 4].map((d) => new Date(utc('2099-06-01T00:00:00').getTime() + d * 86_400_000));
      const picked = await board.aggregate(days, { aggregate: 'sum' });
      const sums = new Map<string, number>();
      for (const d of [0, 2, 4])
        for (const [m, s] of perDay[d] as Map<string, number>) sums.set(m, (sums.get(m) ?? 0) + s);
      const unweighted = new BoardModel({ order, updatePolicy: 'replace', ties, tieBreak: 'none' });
      for (const [m, s] of sums) unweighted.submit(m, s);
      expect(await picked.top(100)).toEqual(unweighted.entries());
    },
  );

  it('refuses a write whose cycle has expired on the server clock, whatever the injected clock says', async () => {
    const name = `backfill-${++count}`;
    // The injected clock says 2024-01-10, so the cycle looks writable; Redis knows its keys would
    // vanish at once.
    const board = createPeriodicLeaderboard({
      redis,
      prefix,
      name,
      cycle: 'daily',
      now: () => utc('2024-01-10T12:00:00'),
    });
    await expect(board.submit('u', 5)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'date',
    });
    await expect(board.submitMany([{ member: 'v', score: 1 }])).rejects.toMatchObject({ argument: 'date' });
    expect(await redis.send(['EXISTS', `${prefix}{${name}}:cycle:2024-01-10:scores`], { key: name })).toBe(0);
  });

  it('trims and sets the TTL of what a batch wrote before a score group ran out of arrival numbers', async () => {
    const name = `full-${++count}`;
    const board = createPeriodicLeaderboard({
      redis,
      prefix,
      name,
      cycle: 'daily',
      keepTop: 3,
      tieBreak: 'earlier-first',
      tieBreakBits: 2,
      now: () => utc('2099-05-05T10:00:00'),
    });
    const five = ['a', 'b', 'c', 'd', 'e'].map((member) => ({ member, score: 1 }));
    await expect(board.submitMany(five)).rejects.toMatchObject({ argument: 'tieBreakBits' });
    const key = `${prefix}{${name}}:cycle:2099-05-05:scores`;
    expect(await redis.send(['ZCARD', key], { key })).toBe(3);
    expect(await pexpiretime(key)).toBe(utc('2099-05-07T00:00:00').getTime());
    expect((await board.current().top(5)).map((e) => e.member)).toEqual(['a', 'b', 'c']);
  });

  it('rejects bad periodic options and aggregate arguments with typed errors', async () => {
    const base = { redis, prefix, name: `bad-${++count}` };
    expect(() => createPeriodicLeaderboard({ ...base, cycle: 'hourly' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      createPeriodicLeaderboard({ ...base, cycle: 'daily', timezone: 'Europe/Paris' as never }),
    ).toThrow(InvalidArgumentError);
    expect(() => createPeriodicLeaderboard({ ...base, cycle: 'daily', keepCycles: -1 })).toThrow(
      InvalidArgumentError,
    );
    const board = createPeriodicLeaderboard({ ...base, cycle: 'weekly' });
    await expect(board.aggregate(0)).rejects.toMatchObject({ argument: 'cycles' });
    await expect(board.aggregate(2, { weights: [1] })).rejects.toMatchObject({ argument: 'weights' });
    await expect(board.aggregate(2, { aggregate: 'avg' as never })).rejects.toMatchObject({
      argument: 'aggregate',
    });
    await expect(board.aggregate([new Date(), new Date()])).rejects.toMatchObject({ argument: 'cycles' });
    expect(() => board.at(new Date(Number.NaN))).toThrow(InvalidArgumentError);
    const shifty = createPeriodicLeaderboard({
      ...base,
      cycle: () => ({ id: 'x', start: new Date(0), end: new Date(1) }),
    });
    await expect(shifty.submit('m', 1)).rejects.toMatchObject({ argument: 'cycle' });
  });
});
