import { connect, type RedisConnection, slotOf } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeaderboardMatrix, type MatrixBoardOptions } from '../src/index.ts';
import { BoardModel, random } from './model.ts';

const utc = (iso: string) => new Date(`${iso}Z`);

describe.each(topologies())('leaderboard matrix on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lb-matrix');
  let count = 0;
  const key = (matrix: string, ...parts: string[]) => `${prefix}{${matrix}}:${parts.join(':')}`;

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('writes one score to every board under its own policy and cycle, all keys in one slot', async () => {
    let now = utc('2099-06-15T12:00:00'); // a Monday, in ISO week 2099-W25
    const name = `game-${++count}`;
    const matrix = createLeaderboardMatrix<{ nick: string }>({
      redis,
      prefix,
      name,
      now: () => now,
      boards: {
        allTime: { updatePolicy: 'best', ties: 'competition', tieBreak: 'earlier-first' },
        weekly: { updatePolicy: 'best', cycle: 'weekly', keepCycles: 2 },
        total: { updatePolicy: 'increment' },
        fastest: { updatePolicy: 'replace', order: 'low-to-high', ties: 'dense' },
      },
    });
    expect(matrix.boards).toEqual(['allTime', 'weekly', 'total', 'fastest']);
    expect(await matrix.submit('ann', 50, { data: { nick: 'a' } })).toEqual({
      allTime: 50,
      weekly: 50,
      total: 50,
      fastest: 50,
    });
    expect(await matrix.submit('ann', 30)).toEqual({ allTime: 50, weekly: 50, total: 80, fastest: 30 });
    await matrix.submit('bob', 50);
    now = utc('2099-06-22T00:00:00'); // next week
    expect(await matrix.submit('bob', 20, { boards: ['weekly', 'total'] })).toEqual({
      weekly: 20,
      total: 70,
    });

    expect(await matrix.entry('ann', { withData: true })).toEqual({
      allTime: { member: 'ann', score: 50, rank: 1, data: { nick: 'a' } },
      weekly: null, // ann has not played this week
      total: { member: 'ann', score: 80, rank: 1, data: { nick: 'a' } },
      fastest: { member: 'ann', score: 30, rank: 1, data: { nick: 'a' } },
    });
    expect(await matrix.entry('bob', { boards: ['allTime', 'weekly'] })).toEqual({
      allTime: { member: 'bob', score: 50, rank: 1 }, // competition: tied with ann, who came first
      weekly: { member: 'bob', score: 20, rank: 1 },
    });
    expect((await matrix.board('allTime').top(2)).map((e) => e.member)).toEqual(['ann', 'bob']);
    expect(await matrix.top('total', 5, { boards: ['fastest'] })).toEqual([
      { total: { member: 'ann', score: 80, rank: 1 }, fastest: { member: 'ann', score: 30, rank: 1 } },
      { total: { member: 'bob', score: 70, rank: 2 }, fastest: { member: 'bob', score: 50, rank: 2 } },
    ]);
    const lastWeek = matrix.board('weekly', utc('2099-06-16T00:00:00'));
    expect((await lastWeek.top(5)).map((e) => [e.member, e.score])).toEqual([
      ['ann', 50],
      ['bob', 50],
    ]);

    // Every board, periodic cycles included, lives under the matrix's hash tag: one slot.
    const keys = [
      key(name, 'board', 'allTime', 'scores'),
      key(name, 'board', 'total', 'data'),
      key(name, 'board', 'weekly', 'cycle', '2099-W25', 'scores'),
      key(name, 'board', 'weekly', 'cycle', '2099-W26', 'scores'),
    ];
    for (const k of keys) expect(await redis.send(['EXISTS', k], { key: k })).toBe(1);
    expect(new Set(keys.map(slotOf)).size).toBe(1);
    // The weekly cycle expires 2 weeks after its end; the other boards do not expire.
    const w25 = keys[2] as string;
    expect(await redis.send(['PEXPIRETIME', w25], { key: w25 })).toBe(utc('2099-07-06T00:00:00').getTime());
    expect(await redis.send(['PEXPIRETIME', keys[0] as string], { key: keys[0] as string })).toBe(-1);
  });

  it('matches a model of each board over 400 random submits to random sets of boards', async () => {
    const rand = random(4_242);
    const boards: Record<string, MatrixBoardOptions> = {
      best: { updatePolicy: 'best', ties: 'dense', tieBreak: 'earlier-first' },
      last: { updatePolicy: 'replace', order: 'low-to-high', ties: 'competition' },
      sum: { updatePolicy: 'increment', keepTop: 15 },
      daily: { updatePolicy: 'increment', cycle: 'daily', tieBreak: 'earlier-first', ties: 'competition' },
    };
    let now = utc('2099-01-01T10:00:00');
    const matrix = createLeaderboardMatrix<{ n: number }>({
      redis,
      prefix,
      name: `model-${++count}`,
      boards,
      now: () => now,
    });
    const models = new Map<string, BoardModel>();
    const modelOf = (id: string) => {
      const modelKey = id === 'daily' ? `daily:${now.toISOString().slice(0, 10)}` : id;
      let model = models.get(modelKey);
      if (model === undefined) {
        const {
          order = 'high-to-low',
          updatePolicy = 'replace',
          ties = 'ordinal',
          tieBreak = 'none',
          keepTop,
        } = boards[id] as MatrixBoardOptions;
        model = new BoardModel({ order, updatePolicy, ties, tieBreak, ...(keepTop ? { keepTop } : {}) });
        models.set(modelKey, model);
      }
      return model;
    };
    const ids = Object.keys(boards);
    const members = Array.from({ length: 40 }, (_, i) => `p${i}`);
    // Load the script first: a NOSCRIPT retry could reorder the pipelined submits below.
    await matrix.submit('warm-up', 0, { boards: ['last'] });
    modelOf('last').submit('warm-up', 0);

    for (const day of ['2099-01-01T10:00:00', '2099-01-02T10:00:00']) {
      now = utc(day);
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < 200; i++) {
        const member = members[Math.floor(rand() * members.length)] as string;
        const score = Math.floor(rand() * 21) - 10;
        const picked = rand() < 0.5 ? ids : ids.filter(() => rand() < 0.5);
        const chosen = picked.length === 0 ? ids : picked;
        const data = rand() < 0.2 ? { n: i } : undefined;
        writes.push(matrix.submit(member, score, { boards: chosen, ...(data ? { data } : {}) }));
        for (const id of chosen) modelOf(id).submit(member, score, data);
      }
      await Promise.all(writes);
    }
    for (const [modelKey, model] of models) {
      const [id, day] = modelKey.split(':') as [string, string | undefined];
      const board = matrix.board(id, day === undefined ? undefined : utc(`${day}T12:00:00`));
      expect(await board.top(100, { withData: true }), modelKey).toEqual(model.entries(true));
    }
    // entry() reads every board of the current day at once; top() a board's best with every board.
    const expectedRow = (member: string, read: string[], withData = false) =>
      Object.fromEntries(
        read.map((id) => [
          id,
          modelOf(id)
            .entries(withData)
            .find((e) => e.member === member) ?? null,
        ]),
      );
    const entries = await Promise.all(members.map((m) => matrix.entry(m)));
    expect(entries).toEqual(members.map((m) => expectedRow(m, ids)));
    for (const id of ids) {
      const best = modelOf(id).entries().slice(0, 12);
      expect(await matrix.top(id, 12), id).toEqual(best.map((e) => expectedRow(e.member, ids)));
      // Reading fewer boards still reads the one sorted by, first; data comes from each board.
      const others = ids.filter((other) => other !== id).slice(0, 1);
      expect(await matrix.top(id, 5, { boards: others, withData: true }), id).toEqual(
        best.slice(0, 5).map((e) => expectedRow(e.member, [id, ...others], true)),
      );
    }
  });
});
