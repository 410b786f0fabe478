import { createCache } from '@redis-patterns/cache-aside';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createLeaderboard } from '@redis-patterns/leaderboard';
import { createLock } from '@redis-patterns/lock';
import { createQueue } from '@redis-patterns/queue';
import { createSessionStore } from '@redis-patterns/session';
import { startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, parsed } from './cli.ts';

describe.each(topologies())('redis-patterns status on $name', ({ url }) => {
  const p = {
    queue: uniquePrefix('ops-sq'),
    lock: uniquePrefix('ops-sl'),
    ratelimit: uniquePrefix('ops-sr'),
    leaderboard: uniquePrefix('ops-sb'),
    session: uniquePrefix('ops-ss'),
    cache: uniquePrefix('ops-sc'),
  };
  const prefixArgs = Object.entries(p).flatMap(([pattern, prefix]) => [`--${pattern}-prefix`, prefix]);
  let redis: RedisConnection;

  beforeAll(async () => {
    redis = await connect({ url });
    const queue = createQueue({ redis, name: 'thumbs', prefix: p.queue });
    await queue.add({ file: 'a.png' });
    await queue.add({ file: 'b.png' }, { delayMs: 60_000 });
    await createLock({ redis, prefix: p.lock, ttlMs: 60_000, autoExtend: false }).acquire('migrate');
    await createLeaderboard({ redis, prefix: p.leaderboard, name: 'weekly' }).submit('ada', 3);
    const store = createSessionStore({ redis, prefix: p.session });
    for (const user of ['ada', 'bob', 'cy']) await store.create({ user }, { userId: user });
    await createCache({ redis, prefix: p.cache }).set('home', '<html>', { ttlMs: 60_000, tags: ['pages'] });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it("shows every pattern's state in one JSON document", async () => {
    const s = parsed(await cli(['--url', url, 'status', '--json', ...prefixArgs]));
    expect(s.queues).toMatchObject([{ name: 'thumbs', waiting: 1, delayed: 1 }]);
    expect(s.locks).toMatchObject({ held: 1, complete: true, items: [{ name: 'migrate', kind: 'mutex' }] });
    expect(s.cache).toMatchObject({ entries: 1, tagVersions: 1, loadsInFlight: 0, complete: true });
    expect(s.sessions).toEqual({ count: 3, complete: true });
    expect(s.rateLimits).toEqual({ keys: 0, complete: true });
    expect(s.boards).toMatchObject({ count: 1, items: [{ name: 'weekly', size: 1 }] });
  });

  it('shows the same at a glance for people', async () => {
    const run = await cli(['--url', url, 'status', ...prefixArgs]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\nthumbs\s+1\s+0\s+1\s+0\s/);
    expect(run.stdout).toContain('Locks held: 1');
    expect(run.stdout).toMatch(/\nmigrate\s+mutex\s+1\s/);
    expect(run.stdout).toMatch(/Cache: 1 entries, 1 tag versions, 0 loads in flight/);
    expect(run.stdout).toContain('Sessions: 3');
    expect(run.stdout).toMatch(/\nweekly\s+-\s+board\s+1/);
  });

  it('refreshes with --watch until Ctrl-C, then exits 0 having closed its connection', async () => {
    const child = startChild(BIN, ['--url', url, '--json', 'status', '--watch', '150', ...prefixArgs]);
    const first = await child.json<{ at: string; sessions: { count: number } }>();
    expect(first.sessions.count).toBe(3);
    await createSessionStore({ redis, prefix: p.session }).create({ user: 'dee' }, { userId: 'dee' });
    const later = await child.json<{ sessions: { count: number } }>((s) => s.sessions.count === 4, 10_000);
    expect(later.sessions.count).toBe(4);
    const stopped = Date.now();
    child.process.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopped).toBeLessThan(5000);
  });
});
