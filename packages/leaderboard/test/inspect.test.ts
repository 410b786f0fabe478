import { connect, escapeGlob, type RedisConnection, slotOf } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClosedError,
  createLeaderboard,
  createLeaderboardInspector,
  createLeaderboardMatrix,
  createPeriodicLeaderboard,
  type InspectedBoard,
  InvalidArgumentError,
  type LeaderboardOptions,
  utcCycles,
} from '../src/index.ts';

const WEEK_MS = 7 * 86_400_000;

describe.each(topologies())('leaderboard inspector on $name', ({ url, name: topology }) => {
  let redis: RedisConnection;
  const base = uniquePrefix('lb-insp');
  let n = 0;
  const fresh = () => `${base}${n++}:`;
  const keysUnder = async (prefix: string) => {
    const found: string[] = [];
    for await (const key of redis.scan(`${escapeGlob(prefix)}*`)) found.push(key);
    return found.sort();
  };
  const scores = { ann: 90, bob: 100, cyd: 80, dan: 90, eve: 70 };
  const filled = async (options: Omit<LeaderboardOptions, 'redis'>) => {
    const board = createLeaderboard({ redis, ...options });
    await board.submitMany(Object.entries(scores).map(([member, score]) => ({ member, score })));
    return board;
  };

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it("reads a board's size, top and a member's neighbourhood as the board itself ranks them", async () => {
    const prefix = fresh();
    const board = await filled({ prefix, name: 'arcade', ties: 'competition' });
    const inspector = createLeaderboardInspector({ redis, prefix });
    expect(await inspector.size('arcade')).toBe(5);
    const top = await inspector.top('arcade', 3, { ties: 'competition' });
    expect(top.map((e) => [e.member, e.score, e.rank])).toEqual([
      ['bob', 100, 1],
      ['ann', 90, 2],
      ['dan', 90, 2],
    ]);
    expect(top).toEqual(await board.top(3));
    const around = await inspector.around('arcade', 'dan', 1, { ties: 'competition' });
    expect(around).toEqual({ rank: 2, score: 90, entries: await board.around('dan', 1) });
    expect(around?.entries.map((e) => e.member)).toEqual(['ann', 'dan', 'cyd']);
    expect(await inspector.around('arcade', 'zed', 1)).toBeNull();
    expect(await inspector.size('nothing-here')).toBe(0);
    expect(await inspector.top('nothing-here', 5)).toEqual([]);
  });

  it("needs a board's order and tie-break, which Redis does not record, to read its scores", async () => {
    const prefix = fresh();
    const format = { order: 'low-to-high', tieBreak: 'earlier-first', tieBreakBits: 10 } as const;
    const board = await filled({ prefix, name: 'golf', ...format });
    const inspector = createLeaderboardInspector({ redis, prefix });
    const top = await inspector.top('golf', 5, format);
    expect(top).toEqual(await board.top(5));
    expect(top.map((e) => e.score)).toEqual([70, 80, 90, 90, 100]);
    // With the defaults (high-to-low, no tie-break) the same members come back with wrong scores.
    const misread = await inspector.top('golf', 5);
    expect(misread.map((e) => e.member)).toEqual(top.map((e) => e.member));
    expect(misread.map((e) => e.score)).not.toEqual(top.map((e) => e.score));
    expect((await inspector.around('golf', 'cyd', 0, format))?.rank).toBe(await board.rank('cyd'));
  });

  it('lists plain, periodic and matrix boards over several pages, and nothing of another prefix', async () => {
    const prefix = fresh();
    const names = Array.from({ length: 20 }, (_, i) => `b{${i}}*`);
    for (const name of names) await createLeaderboard({ redis, prefix, name }).submit('m', 1);
    const weekly = createPeriodicLeaderboard({ redis, prefix, name: 'weekly', cycle: 'weekly' });
    await weekly.submit('m', 5);
    await weekly.at(new Date(Date.now() - WEEK_MS)).submit('m', 3);
    const matrix = createLeaderboardMatrix({
      redis,
      prefix,
      name: 'mx',
      boards: { best: { updatePolicy: 'best' }, week: { cycle: 'weekly' } },
    });
    await matrix.submit('m', 7);
    await createLeaderboard({ redis, prefix, name: 'emptied' }).submit('m', 1);
    await createLeaderboard({ redis, prefix, name: 'emptied' }).remove('m');
    // Starts with `prefix`: a SCAN of `prefix*` alone would find it.
    await createLeaderboard({ redis, prefix: `${prefix}x:`, name: 'foreign' }).submit('m', 1);

    const inspector = createLeaderboardInspector({ redis, prefix });
    const items: InspectedBoard[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await inspector.list({ cursor, count: 4 });
      expect(page.items.length).toBeLessThanOrEqual(4);
      items.push(...page.items);
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBeGreaterThan(3);
    expect(items).toHaveLength(20 + 2 + 2);
    expect(
      items
        .filter((i) => i.kind === 'board')
        .map((i) => i.name)
        .sort(),
    ).toEqual([...names].sort());
    const thisWeek = utcCycles.weekly(new Date()).id;
    const lastWeek = utcCycles.weekly(new Date(Date.now() - WEEK_MS)).id;
    const cycles = items
      .filter((i) => i.kind === 'cycle')
      .sort((a, b) => (a.cycle as string).localeCompare(b.cycle as string));
    expect(cycles.map((c) => [c.name, c.path, c.current, c.size])).toEqual([
      ['weekly', ['cycle', lastWeek], false, 1],
      ['weekly', ['cycle', thisWeek], true, 1],
    ]);
    for (const c of cycles) expect(c.expiresAt).toBeGreaterThan(Date.now());
    const inMatrix = items.filter((i) => i.kind === 'matrix').sort((a, b) => a.key.localeCompare(b.key));
    expect(inMatrix.map((b) => [b.name, b.matrixBoard, b.cycle, b.current])).toEqual([
      ['mx', 'best', undefined, undefined],
      ['mx', 'week', thisWeek, true],
    ]);
    // A listed board is a reference for the other methods.
    const current = cycles[1] as InspectedBoard;
    expect(await inspector.top(current, 1)).toEqual([{ member: 'm', score: 5, rank: 1 }]);
    expect(await inspector.top(inMatrix[1] as InspectedBoard, 1)).toEqual([
      { member: 'm', score: 7, rank: 1 },
    ]);
    if (topology === 'cluster') {
      expect(new Set(items.map((i) => Math.floor(slotOf(i.key) / 5462))).size).toBeGreaterThan(1);
    }
  });

  it('removes a member and clears a board as the board itself would, on this prefix only', async () => {
    const prefix = fresh();
    const other = `${prefix}x:`;
    const board = await filled({ prefix, name: 'd', ties: 'dense' });
    const theirs = await filled({ prefix: other, name: 'd', ties: 'dense' });
    const inspector = createLeaderboardInspector({ redis, prefix });
    // Without the board's tie rule, its dense index would be left wrong: refused, nothing removed.
    await expect(inspector.remove('d', 'bob')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await board.rank('bob')).toBe(1);
    expect(await inspector.remove('d', 'bob', { ties: 'dense' })).toBe(true);
    expect(await inspector.remove('d', 'bob', { ties: 'dense' })).toBe(false);
    // The dense index moved with it: ann and dan are now first.
    expect((await board.top(3)).map((e) => [e.member, e.rank])).toEqual([
      ['ann', 1],
      ['dan', 1],
      ['cyd', 2],
    ]);
    const plain = await filled({ prefix, name: 'o' });
    await expect(inspector.remove('o', 'bob', { ties: 'dense' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await inspector.remove('o', 'bob')).toBe(true);
    expect(await plain.count()).toBe(4);
    expect(await inspector.clear('d')).toBe(true);
    expect(await inspector.clear('d')).toBe(false);
    expect(await keysUnder(`${prefix}{d}`)).toEqual([]);
    expect(await theirs.count()).toBe(5);
    expect(await theirs.rank('bob')).toBe(1);
  });

  it('rejects bad input with InvalidArgumentError before anything is sent', async () => {
    const prefix = fresh();
    await filled({ prefix, name: 'b' });
    const before = await keysUnder(prefix);
    const inspector = createLeaderboardInspector({ redis, prefix });
    const bad: Array<() => Promise<unknown>> = [
      () => inspector.size(''),
      () => inspector.size({ name: 'b', path: ['nope', 'x'] }),
      () => inspector.size({ name: 'b', path: ['cycle', ''] }),
      () => inspector.top('b', 0),
      () => inspector.top('b', 1001),
      () => inspector.top('b', 1, { order: 'sideways' as 'high-to-low' }),
      () => inspector.around('b', '', 1),
      () => inspector.around('b', 'ann', -1),
      () => inspector.remove('b', ''),
      () => inspector.remove('b', 'ann', { ties: 'none' as 'dense' }),
      () => inspector.clear({ name: '' }),
      () => inspector.list({ count: 0 }),
      () => inspector.list({ count: 1001 }),
      () => inspector.list({ cursor: 'not a cursor' }),
    ];
    for (const call of bad) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => createLeaderboardInspector({ redis, prefix: 'a}' })).toThrow(InvalidArgumentError);
    expect(await keysUnder(prefix)).toEqual(before);
    expect(await inspector.size('b')).toBe(5);
    expect(await inspector.ping()).toBeGreaterThanOrEqual(0);
    await inspector.close();
    await expect(inspector.size('b')).rejects.toBeInstanceOf(ClosedError);
    await expect(inspector.ping()).rejects.toBeInstanceOf(ClosedError);
  });
});
