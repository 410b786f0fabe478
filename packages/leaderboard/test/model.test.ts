import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLeaderboard,
  type LeaderboardOrder,
  type TieBreak,
  type TieRule,
  type UpdatePolicy,
} from '../src/index.ts';
import { BoardModel, random } from './model.ts';

const orders: LeaderboardOrder[] = ['high-to-low', 'low-to-high'];
const policies: UpdatePolicy[] = ['replace', 'best', 'increment'];
const tieRules: TieRule[] = ['ordinal', 'dense', 'competition'];
const tieBreaks: TieBreak[] = ['none', 'earlier-first'];
const combos = orders.flatMap((order) =>
  policies.flatMap((updatePolicy) =>
    tieRules.flatMap((ties) => tieBreaks.map((tieBreak) => ({ order, updatePolicy, ties, tieBreak }))),
  ),
);

describe.each(topologies())('leaderboard against the reference model on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lb-model');

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 20_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it.each(combos.map((c, i) => ({ ...c, seed: 1_000 + i })))(
    '$updatePolicy $order $ties $tieBreak: 1,000 members with many ties rank, page, iterate and locate as the model does',
    async ({ order, updatePolicy, ties, tieBreak, seed }) => {
      const rand = random(seed);
      const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)] as T;
      // Few distinct values for 1,000 members: ~8 members per score. Quarters are exact doubles, so
      // sums stay exact on both sides; earlier-first boards store whole numbers only.
      const value = () =>
        tieBreak === 'earlier-first' ? Math.floor(rand() * 61) - 30 : (Math.floor(rand() * 121) - 60) / 4;
      const board = createLeaderboard<{ n: number }>({
        redis,
        prefix,
        name: `model-${seed}`,
        order,
        updatePolicy,
        ties,
        tieBreak,
      });
      const model = new BoardModel({ order, updatePolicy, ties, tieBreak });
      const members = Array.from({ length: 1_000 }, (_, i) => `m${String(i).padStart(4, '0')}`);

      // Phase 1: everyone arrives in one batch, in random order, half of them with data.
      const batch = [...members]
        .sort(() => rand() - 0.5)
        .map((member, i) =>
          i % 2 === 0 ? { member, score: value(), data: { n: i } } : { member, score: value() },
        );
      await board.submitMany(batch);
      model.submitMany(batch);

      // Phase 2: 1,500 pipelined writes on one connection reach Redis in call order, so the model
      // replays them in the same order. Load the remove script first: a NOSCRIPT retry would reorder.
      await board.remove('not-a-member');
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < 1_500; i++) {
        const member = pick(members);
        const roll = rand();
        if (roll < 0.65) {
          const score = value();
          writes.push(board.submit(member, score));
          model.submit(member, score);
        } else if (roll < 0.85) {
          const by = value();
          writes.push(board.increment(member, by));
          model.increment(member, by);
        } else if (roll < 0.95) {
          const score = value();
          writes.push(board.submit(member, score, { data: { n: -i - 1 } }));
          model.submit(member, score, { n: -i - 1 });
        } else {
          writes.push(board.remove(member));
          model.remove(member);
        }
      }
      await Promise.all(writes);

      const expected = model.entries();
      const expectedWithData = model.entries(true);
      expect(expected.length).toBeGreaterThan(800);
      expect(await board.count()).toBe(expected.length);

      // Every member's rank, through both rank() and rankedList(), absent members included.
      const byMember = new Map(expectedWithData.map((e) => [e.member, e]));
      expect(await board.rankedList(members, { withData: true })).toEqual(
        members.map((m) => byMember.get(m) ?? null),
      );
      expect(await Promise.all(members.map((m) => board.rank(m)))).toEqual(
        members.map((m) => byMember.get(m)?.rank ?? null),
      );

      // Pages (with and without data), top and a full iteration.
      const pages: unknown[] = [];
      for (let p = 1; p <= Math.ceil(expected.length / 37) + 1; p++) {
        pages.push(...(await board.page(p, 37, { withData: p % 2 === 0 })));
      }
      expect(pages).toEqual(expected.map((e, i) => (Math.floor(i / 37) % 2 === 1 ? expectedWithData[i] : e)));
      expect(await board.top(10)).toEqual(expected.slice(0, 10));
      const iterated = [];
      for await (const entry of board.iterate({ batch: 100 })) iterated.push(entry);
      expect(iterated).toEqual(expected);

      // around: borders (first, second, last, second to last) and random members, both fill modes.
      const sample = [
        0,
        1,
        expected.length - 2,
        expected.length - 1,
        ...Array.from({ length: 12 }, () => Math.floor(rand() * expected.length)),
      ];
      for (const index of sample) {
        const member = (expected[index] as { member: string }).member;
        for (const radius of [0, 1, 3, 5, 12]) {
          for (const fillBorders of [false, true]) {
            expect(await board.around(member, radius, { fillBorders, withData: radius === 3 })).toEqual(
              model.around(member, radius, fillBorders, radius === 3),
            );
          }
        }
      }

      // The same arounds all at once (plain ones share script calls), plus members not on the board.
      const concurrent = sample.flatMap((index) =>
        [0, 1, 5].flatMap((radius) =>
          [false, true].map((fillBorders) => ({
            member: (expected[index] as { member: string }).member,
            radius,
            fillBorders,
          })),
        ),
      );
      concurrent.push({ member: 'nobody', radius: 2, fillBorders: true });
      expect(
        await Promise.all(
          concurrent.map((c) => board.around(c.member, c.radius, { fillBorders: c.fillBorders })),
        ),
      ).toEqual(concurrent.map((c) => model.around(c.member, c.radius, c.fillBorders, false)));

      // Percentile of every member, atRank of every rank (and one past the end).
      const percentiles = model.percentiles();
      expect(await Promise.all(members.map((m) => board.percentile(m)))).toEqual(
        members.map((m) => percentiles.get(m) ?? null),
      );
      const ranks = Array.from({ length: expected.length + 1 }, (_, i) => i + 1);
      expect(await Promise.all(ranks.map((r) => board.atRank(r)))).toEqual(ranks.map((r) => model.atRank(r)));

      // Score ranges, including fractional bounds on whole-number boards and a limit.
      for (const [min, max, limit] of [
        [-5, 5, undefined],
        [-2.5, 3.25, undefined],
        [Number.NEGATIVE_INFINITY, 0, 20],
        [7, Number.POSITIVE_INFINITY, undefined],
        [3, 2, undefined],
      ] as const) {
        expect(await board.scoreRange(min, max, limit === undefined ? {} : { limit })).toEqual(
          model.scoreRange(min, max, limit),
        );
      }
    },
  );
});
