import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeaderboardMatrix, type LeaderboardMatrix, type MatrixBoardOptions } from '../src/index.ts';

const utc = (iso: string) => new Date(`${iso}Z`);

describe.each(topologies())('leaderboard matrix, all boards or none, on $name', ({ url }) => {
  let redis: RedisConnection;
  /** Extra connections, so that writers and readers really interleave on the server. */
  let others: RedisConnection[];
  const prefix = uniquePrefix('lb-matrix');
  let count = 0;
  const key = (matrix: string, ...parts: string[]) => `${prefix}{${matrix}}:${parts.join(':')}`;

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 10_000 });
    others = await Promise.all([1, 2, 3, 4, 5].map(() => connect({ url, commandTimeoutMs: 10_000 })));
  });
  afterAll(async () => {
    await Promise.all([redis, ...(others ?? [])].map((c) => c?.close()));
  });

  it('writes nothing on any board when one board refuses the score', async () => {
    const name = `refuse-${++count}`;
    const matrix = createLeaderboardMatrix({
      redis,
      prefix,
      name,
      boards: {
        best: { updatePolicy: 'best' },
        tiny: { updatePolicy: 'increment', tieBreak: 'earlier-first', tieBreakBits: 48 }, // |score| <= 31
        crowded: { tieBreak: 'earlier-first', tieBreakBits: 2 }, // 4 members per score at most
      },
    });
    const snapshot = async () =>
      Promise.all(matrix.boards.map(async (id) => matrix.board(id).top(10, { withData: true })));
    await matrix.submit('ann', 20, { data: { v: 1 } });
    const before = await snapshot();

    // An increment that would leave tiny's range (20 + 25 > 31) is refused inside the script.
    await expect(matrix.submit('ann', 25, { data: { v: 2 } })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'score (board tiny)',
    });
    // A fraction is refused before sending: earlier-first boards store whole numbers.
    await expect(matrix.submit('bob', 1.5)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await snapshot()).toEqual(before);

    // A score group with all 2^2 arrival numbers used refuses a 5th member; the other boards stay as they were.
    for (const m of ['c1', 'c2', 'c3']) await matrix.submit(m, 20, { boards: ['crowded'] });
    const full = await snapshot();
    await expect(matrix.submit('dan', 20)).rejects.toMatchObject({ argument: 'tieBreakBits' });
    expect(await snapshot()).toEqual(full);
    expect(await matrix.entry('dan')).toEqual({ best: null, tiny: null, crowded: null });

    // Bad input of every kind is typed and sends nothing.
    const bad: Array<() => Promise<unknown>> = [
      () => matrix.submit('', 1),
      () => matrix.submit('x', Number.NaN),
      () => matrix.submit('x', 1, { boards: ['nope'] }),
      () => matrix.submit('x', 1, { boards: ['best', 'best'] }),
      () => matrix.submit('x', 1, { boards: [] }),
      () => matrix.entry('x', { boards: ['nope'] }),
      () => matrix.top('nope', 3),
      () => matrix.top('best', 0),
      () => matrix.submit('x', 1, { data: null as unknown as undefined }),
    ];
    for (const call of bad) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await matrix.entry('x')).toEqual({ best: null, tiny: null, crowded: null });
    expect(() => matrix.board('nope')).toThrow(InvalidArgumentError);
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`b${i}`, {}]));
    for (const boards of [{}, tooMany, { 'a:cycle:x': {} }, { a: { keepCycles: -1 } }]) {
      expect(() => createLeaderboardMatrix({ redis, name, boards })).toThrow(InvalidArgumentError);
    }
    expect(() =>
      createLeaderboardMatrix({ redis, name, boards: { a: { order: 'up' as 'high-to-low' } } }),
    ).toThrow(InvalidArgumentError);
  });

  /**
   * Five boards of different formats get the same writes: the increment boards must always hold
   * equal totals and the replace boards equal scores. Readers compare them in one script (entry) and
   * in MULTI/EXEC while four connections write. Returns the reads made, the torn ones seen, and the
   * five scores of p0 once the writers are done.
   */
  const raceReaders = async (
    name: string,
    write: (matrix: LeaderboardMatrix, conn: number, i: number) => Promise<unknown>,
  ) => {
    const now = utc('2099-03-03T00:00:00');
    const boards: Record<string, MatrixBoardOptions> = {
      sumA: { updatePolicy: 'increment' },
      sumB: { updatePolicy: 'increment', order: 'low-to-high', ties: 'dense', tieBreak: 'earlier-first' },
      sumW: { updatePolicy: 'increment', cycle: 'weekly', ties: 'competition' },
      lastA: { updatePolicy: 'replace' },
      lastB: { updatePolicy: 'replace', order: 'low-to-high', tieBreak: 'earlier-first' },
    };
    const matrices = [redis, ...others].map((conn) =>
      createLeaderboardMatrix({ redis: conn, prefix, name, boards, now: () => now }),
    );
    const cycle = '2099-W10';
    const scoresKey = (id: string) =>
      id === 'sumW' ? key(name, 'board', id, 'cycle', cycle, 'scores') : key(name, 'board', id, 'scores');
    const shift = 2 ** 22;
    const decode: Record<string, (stored: number) => number> = {
      sumA: (s) => -s,
      sumB: (s) => Math.floor(s / shift),
      sumW: (s) => -s,
      lastA: (s) => -s,
      lastB: (s) => Math.floor(s / shift),
    };
    const ids = Object.keys(boards);
    let writing = true;
    let reads = 0;
    let torn = 0;
    const consistent = (values: Array<number | null>) => {
      const [a, b, w, la, lb] = values;
      return a === b && b === w && la === lb;
    };
    const viaScript = async (matrix: LeaderboardMatrix) => {
      while (writing) {
        const entry = await matrix.entry(`p${reads % 3}`);
        reads++;
        if (!consistent(ids.map((id) => entry[id]?.score ?? null))) torn++;
      }
    };
    const viaMulti = async (conn: RedisConnection) => {
      while (writing) {
        const member = `p${reads % 3}`;
        const multi = conn.multi(scoresKey('sumA'));
        for (const id of ids) multi.zScore(scoresKey(id), member);
        const replies = (await multi.exec()) as unknown as Array<number | string | null>;
        reads++;
        if (
          !consistent(
            replies.map((r, i) => (r === null ? null : (decode[ids[i] as string]?.(Number(r)) ?? null))),
          )
        )
          torn++;
      }
    };
    const writers = [0, 1, 2, 3].map(async (c) => {
      for (let i = 0; i < 120; i++) await write(matrices[c] as LeaderboardMatrix, c, i);
    });
    const readers = [viaScript(matrices[4] as LeaderboardMatrix), viaMulti(others[4] as RedisConnection)];
    await Promise.all(writers);
    writing = false;
    await Promise.all(readers);
    const entry = await matrices[0]?.entry('p0');
    return { reads, torn, final: ids.map((id) => entry?.[id]?.score ?? null) };
  };
  /** The increment boards hold one total, whatever order the writes landed in. */
  const totalsAgree = ([a, b, w]: Array<number | null>) => a === b && b === w;

  it('never lets a reader see one board updated and another not, in a script or in MULTI, under 4 concurrent writers', async () => {
    const score = (c: number, i: number) => ((c * 7 + i * 13) % 41) - 20;
    const { reads, torn, final } = await raceReaders(`race-${++count}`, (matrix, c, i) =>
      matrix.submit(`p${(c + i) % 3}`, score(c, i)),
    );
    expect(reads).toBeGreaterThan(50);
    expect(torn).toBe(0);
    // After the writers: the boards agree, and hold what the writes add up to.
    expect(totalsAgree(final)).toBe(true);
    expect(final[3]).toBe(final[4]);
  });

  it('(control) the same readers do see torn states when the boards are written one by one', async () => {
    const { reads, torn, final } = await raceReaders(`control-${++count}`, async (matrix, c, i) => {
      for (const id of matrix.boards)
        await matrix.board(id).submit(`p${(c + i) % 3}`, ((c * 7 + i * 13) % 41) - 20);
    });
    expect(reads).toBeGreaterThan(50);
    expect(torn).toBeGreaterThan(0);
    // The totals agree once the writers are done. The replace boards need not: writers 0 and 3
    // write the same member, and their last writes may land board by board interleaved.
    expect(totalsAgree(final)).toBe(true);
  });
});
