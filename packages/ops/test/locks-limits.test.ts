import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createLeaderboard } from '@redis-patterns/leaderboard';
import { createLock, createLockInspector, type LockHandle } from '@redis-patterns/lock';
import { createRateLimiter, fixedWindow, type RateLimiter } from '@redis-patterns/rate-limit';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, parsed } from './cli.ts';

describe.each(topologies())('redis-patterns lock, ratelimit and leaderboard on $name', ({ url }) => {
  const prefixes = { lock: uniquePrefix('ops-lock'), rl: uniquePrefix('ops-rl'), lb: uniquePrefix('ops-lb') };
  let redis: RedisConnection;
  let held: LockHandle;
  let limiter: RateLimiter;
  const run = (prefix: string, ...args: string[]) => cli(['--url', url, '--prefix', prefix, ...args]);

  beforeAll(async () => {
    redis = await connect({ url });
    // Ten minutes: under load this file's CLI runs take well over a minute.
    held = await createLock({ redis, prefix: prefixes.lock, ttlMs: 600_000, autoExtend: false }).acquire(
      'nightly',
    );
    limiter = createRateLimiter({
      redis,
      prefix: prefixes.rl,
      algorithm: fixedWindow({ limit: 1, windowMs: 600_000 }),
    });
    await limiter.limit('ip-9');
    expect((await limiter.limit('ip-9')).allowed).toBe(false);
    const board = createLeaderboard({ redis, prefix: prefixes.lb, name: 'arcade' });
    for (const [member, score] of [
      ['ada', 30],
      ['bob', 20],
      ['cy', 10],
      ['dee', 5],
    ] as const) {
      await board.submit(member, score);
    }
  });
  afterAll(async () => {
    await createLeaderboard({ redis, prefix: prefixes.lb, name: 'arcade' }).clear();
    await limiter?.reset('ip-9');
    await redis?.close();
  });

  it('lists and gets a held lock with its holder and fencing token', async () => {
    const list = parsed(await run(prefixes.lock, 'lock', 'list', '--json'));
    expect(list.cursor).toBeUndefined();
    expect(list.items).toMatchObject([{ name: 'nightly', kind: 'mutex', holderCount: 1 }]);
    const one = parsed(await run(prefixes.lock, '--json', 'lock', 'get', 'nightly'));
    expect(one.holders).toMatchObject([{ owner: expect.any(String), fencingToken: held.fencingToken }]);
    const human = await run(prefixes.lock, 'lock', 'list');
    expect(human.stdout).toMatch(/^NAME\s+KIND\s+HOLDERS/);
    expect(human.stdout).toMatch(/\nnightly\s+mutex\s+1\s+0\s/);
    expect((await run(prefixes.lock, 'lock', 'get', 'nobody')).code).toBe(1);
  });

  it('force-releases a lock only with --yes, and the holder sees it as lost', async () => {
    const refused = await run(prefixes.lock, 'lock', 'release', 'nightly');
    expect(refused.code).toBe(2);
    const inspector = createLockInspector({ redis, prefix: prefixes.lock });
    expect(await inspector.get('nightly')).not.toBeNull();

    expect(parsed(await run(prefixes.lock, 'lock', 'release', 'nightly', '--yes', '--json'))).toEqual({
      name: 'nightly',
      released: 1,
    });
    expect(await inspector.get('nightly')).toBeNull();
    await expect(held.extend()).rejects.toThrow();
    // Nothing left to release: the operation failed.
    expect((await run(prefixes.lock, 'lock', 'release', 'nightly', '--yes')).code).toBe(1);
  });

  it('lists a rate-limited identifier, reads its window, and resets it with --yes', async () => {
    const list = parsed(await run(prefixes.rl, 'ratelimit', 'list', '--json'));
    expect(list.items).toMatchObject([{ identifier: 'ip-9', kind: 'state', algorithms: ['fixedWindow'] }]);
    const state = parsed(await run(prefixes.rl, 'ratelimit', 'get', 'ip-9', '--json'));
    expect(state.identifier).toBe('ip-9');
    expect(state.fixedWindow).toMatchObject({ count: 1 });
    expect((await run(prefixes.rl, 'ratelimit', 'reset', 'ip-9')).code).toBe(2);
    expect((await limiter.limit('ip-9')).allowed).toBe(false);

    const reset = parsed(await run(prefixes.rl, 'ratelimit', 'reset', 'ip-9', '--yes', '--json'));
    expect(reset).toEqual({ identifier: 'ip-9', deleted: 1 });
    expect((await limiter.limit('ip-9')).allowed).toBe(true);
  });

  it('lists boards and reads the top and the neighbourhood of a member', async () => {
    const boards = parsed(await run(prefixes.lb, 'leaderboard', 'list', '--json'));
    expect(boards.items).toMatchObject([{ name: 'arcade', kind: 'board', size: 4 }]);
    const top = parsed(await run(prefixes.lb, 'leaderboard', 'top', 'arcade', '2', '--json'));
    expect(top).toEqual([
      { member: 'ada', score: 30, rank: 1 },
      { member: 'bob', score: 20, rank: 2 },
    ]);
    const around = parsed(
      await run(prefixes.lb, 'leaderboard', 'around', 'arcade', 'cy', '--radius', '1', '--json'),
    );
    expect(around).toMatchObject({ rank: 3, score: 10 });
    expect(around.entries.map((e: { member: string }) => e.member)).toEqual(['bob', 'cy', 'dee']);
    const human = await run(prefixes.lb, 'leaderboard', 'top', 'arcade');
    expect(human.stdout.split('\n')).toEqual([
      'RANK  MEMBER  SCORE',
      '----  ------  -----',
      '   1  ada        30',
      '   2  bob        20',
      '   3  cy         10',
      '   4  dee         5',
    ]);
    expect((await run(prefixes.lb, 'leaderboard', 'around', 'arcade', 'zed')).code).toBe(1);
  });
});
