import { createCache } from '@redis-patterns/cache-aside';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createLeaderboard } from '@redis-patterns/leaderboard';
import { createLock } from '@redis-patterns/lock';
import { createQueue, createWorker, type Queue, type Worker } from '@redis-patterns/queue';
import { createRateLimiter, fixedWindow } from '@redis-patterns/rate-limit';
import { createSessionStore } from '@redis-patterns/session';
import { type RedisServer, startRedis, uniquePrefix } from '@redis-patterns/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from '../src/index.ts';
import { launchBrowser, login, raw, screenshot, serve, watchProblems } from './dashboard-helpers.ts';

const PASSWORD = 'dashboard-S3cret-pw-91';

describe('the dashboard in Chromium', { timeout: 30_000 }, () => {
  const prefix = uniquePrefix('dash');
  const prefixes = {
    queue: prefix,
    lock: prefix,
    ratelimit: prefix,
    leaderboard: prefix,
    session: prefix,
    cache: prefix,
  };
  let server: RedisServer;
  let url: string;
  let redis: RedisConnection;
  let queue: Queue<{ n: number; fail?: boolean }>;
  let worker: Worker<{ n: number; fail?: boolean }> | undefined;
  let browser: { context: BrowserContext; close(): Promise<void> };
  const dashboards: Dashboard[] = [];
  const servers: Array<{ url: string; close(): Promise<void> }> = [];
  /** Every body the browser received, to look for the password in. */
  const bodies: string[] = [];
  let problems: string[] = [];

  async function open(allowWrites: boolean) {
    const dashboard = createDashboard({ redis: url, prefixes, allowWrites, sampleEveryMs: 200 });
    dashboards.push(dashboard);
    const http = await serve(dashboard.handler);
    servers.push(http);
    return { dashboard, base: http.url };
  }

  async function newPage(): Promise<Page> {
    const page = await browser.context.newPage();
    problems = watchProblems(page);
    page.on('response', async (res) => {
      bodies.push(await res.text().catch(() => ''));
    });
    return page;
  }

  async function logIn(page: Page, base: string, token: string) {
    await page.goto(`${base}/`);
    await page.fill('input[name=token]', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=mode]');
  }

  const count = (page: Page, state: string) => page.textContent(`[data-count=${state}] b`);

  beforeAll(async () => {
    server = await startRedis({ forceBinary: true, useEnv: false, args: ['--requirepass', PASSWORD] });
    url = `redis://default:${PASSWORD}@127.0.0.1:${server.port}`;
    redis = await connect({ url });
    queue = createQueue({ redis, name: 'emails', prefix });
    await queue.add({ n: 0 }, { id: 'first' });
    await createLock({ redis, prefix, ttlMs: 60_000, autoExtend: false }).acquire('nightly-report');
    const board = createLeaderboard({ redis, prefix, name: 'arcade' });
    for (const [member, score] of [
      ['ada', 30],
      ['bob', 20],
      ['cy', 10],
    ] as const)
      await board.submit(member, score);
    const limiter = createRateLimiter({
      redis,
      prefix,
      algorithm: fixedWindow({ limit: 2, windowMs: 60_000 }),
    });
    await limiter.limit('ip-9');
    const store = createSessionStore({ redis, prefix });
    await store.create({ cart: 1 }, { userId: 'ada' });
    const cache = createCache({ redis, prefix });
    await cache.set('user:1', { n: 1 }, { ttlMs: 60_000, tags: ['users'] });
    browser = await launchBrowser();
  }, 30_000);

  afterAll(async () => {
    await worker?.close();
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(dashboards.map((d) => d.close()));
    await queue?.close();
    await redis?.close();
    await server?.stop();
  });

  it('shows the login form without the token, refuses a wrong one, and the API answers 401', async () => {
    const { base } = await open(true);
    expect((await raw(`${base}/api/queues`, {})).status).toBe(401);
    const page = await newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('form.login');
    await page.fill('input[name=token]', 'not-the-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('.login [role=alert]');
    expect(await page.textContent('.login [role=alert]')).toBe('Wrong token.');
    expect(await page.$('[data-testid=queues]')).toBeNull();
    await screenshot(page, 'login');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('logs in with the token, sees a queue fill and drain, draws the charts, and retries a dead job', async () => {
    const { dashboard, base } = await open(true);
    const page = await newPage();
    await logIn(page, base, dashboard.token as string);
    expect(await page.textContent('[data-testid=mode]')).toContain('writes allowed');
    expect(await page.textContent('[data-testid=redis]')).toBe(`standalone 127.0.0.1:${server.port}`);
    await expect.poll(() => count(page, 'waiting'), { timeout: 5000 }).toBe('1');

    await queue.addBulk(Array.from({ length: 40 }, (_, n) => ({ payload: { n: n + 1 } })));
    await expect.poll(() => count(page, 'waiting'), { timeout: 5000 }).toBe('41');

    const seen: string[] = [];
    let broken = true;
    worker = createWorker(
      queue,
      async ({ id, payload }) => {
        seen.push(id);
        if (payload.fail && broken) throw new Error('smtp down');
        await new Promise((resolve) => setTimeout(resolve, 15));
      },
      { concurrency: 4 },
    );
    worker.start();
    await expect.poll(() => count(page, 'completed'), { timeout: 10_000 }).toBe('41');
    expect(await count(page, 'waiting')).toBe('0');
    // The depth went up and down while sampled: the chart holds more than one point, drawn on a canvas.
    await expect
      .poll(async () => Number(await page.getAttribute('[data-testid=depth-chart]', 'data-points')))
      .toBeGreaterThan(3);
    expect(await page.$('[data-testid=throughput-chart] canvas')).not.toBeNull();
    const history = await page.evaluate(() =>
      fetch('api/queue?name=emails').then((r) => r.json() as Promise<any>),
    );
    expect(Math.max(...history.history.depth)).toBeGreaterThanOrEqual(30);
    expect(
      Math.max(...history.history.completedPerSecond.filter((v: number | null) => v !== null)),
    ).toBeGreaterThan(0);
    await screenshot(page, 'queues');

    await queue.add({ n: 99, fail: true }, { id: 'doomed', attempts: 1 });
    await expect.poll(() => count(page, 'dead'), { timeout: 5000 }).toBe('1');
    await page.click('button[data-state=dead]');
    await page.waitForSelector('button[data-action=retry]');
    await screenshot(page, 'queues-dead');
    broken = false;
    await page.click('button[data-action=retry]');
    await expect.poll(() => count(page, 'dead'), { timeout: 5000 }).toBe('0');
    await expect.poll(() => count(page, 'completed'), { timeout: 5000 }).toBe('42');
    expect(seen.filter((id) => id === 'doomed')).toHaveLength(2);

    await page.click('button[data-action=pause]');
    await expect.poll(() => page.textContent('[data-testid=paused]')).toBe('paused');
    expect(await queue.isPaused()).toBe(true);
    await page.click('button[data-action=resume]');
    await expect.poll(() => queue.isPaused()).toBe(false);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows locks, leaderboards, a rate limit, sessions by user and cache stats', async () => {
    const { dashboard, base } = await open(true);
    const page = await newPage();
    await logIn(page, base, dashboard.token as string);
    await page.click('button[data-tab=locks]');
    await page.waitForSelector('[data-testid=locks] td');
    expect(await page.textContent('[data-testid=locks]')).toContain('nightly-report');
    await screenshot(page, 'locks');

    await page.click('button[data-tab=leaderboards]');
    await page.click('[data-testid=boards] tr.clickable');
    await page.waitForSelector('[data-testid=top] td');
    expect(await page.textContent('[data-testid=top] tbody tr')).toMatch(/1\s*ada\s*30/);
    await page.fill('input[name=member]', 'bob');
    await page.click('form.row button');
    await page.waitForSelector('[data-testid=around] td');
    await screenshot(page, 'leaderboards');

    await page.click('button[data-tab=ratelimits]');
    await page.fill('input[name=identifier]', 'ip-9');
    await page.click('form.row button');
    await page.waitForSelector('[data-testid=ratelimit] pre');
    expect(await page.textContent('[data-testid=ratelimit]')).toContain('fixedWindow');
    await screenshot(page, 'ratelimits');

    await page.click('button[data-tab=sessions]');
    await page.fill('input[name=user]', 'ada');
    await page.click('form.row button');
    await page.waitForSelector('[data-testid=sessions] td');
    expect(await page.textContent('[data-testid=sessions]')).not.toContain('cart');
    await screenshot(page, 'sessions');
    await page.click('button[data-action=revoke]');
    await expect.poll(() => page.textContent('[data-testid=sessions]')).toBe('No session for ada.');

    await page.click('button[data-tab=cache]');
    await page.waitForSelector('[data-testid=cache]');
    expect(await page.textContent('[data-testid=cache] .card b')).toBe('1');
    await screenshot(page, 'cache');
    await page.fill('input[name=tag]', 'users');
    await page.click('form.row button');
    await expect.poll(() => page.textContent('section')).toContain('Invalidated tag users.');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('read-only: shows no write button and refuses a forged write with a valid cookie and CSRF value', async () => {
    const { dashboard, base } = await open(false);
    await queue.pause();
    await queue.add({ n: 7, fail: true }, { id: 'stuck', attempts: 1 });
    await queue.cancel('stuck');
    const page = await newPage();
    await logIn(page, base, dashboard.token as string);
    expect(await page.textContent('[data-testid=mode]')).toContain('read-only');
    await page.click('button[data-state=dead]');
    await page.waitForSelector('[data-testid=jobs] td');
    expect(await page.$$('button[data-action]')).toHaveLength(0);
    const forged = await page.evaluate(async () => {
      const me = (await fetch('api/me').then((r) => r.json())) as { csrf: string };
      const res = await fetch('api/queue/retry', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf },
        body: JSON.stringify({ name: 'emails', ids: ['stuck'] }),
      });
      return {
        status: res.status,
        body: (await res.json()) as { error: { message: string } },
        csrf: me.csrf,
      };
    });
    expect(forged.csrf).toEqual(expect.any(String));
    expect(forged.status).toBe(403);
    expect(forged.body.error.message).toContain('read-only');
    expect((await queue.get('stuck'))?.state).toBe('dead');
    await screenshot(page, 'read-only');

    // The same forged write outside the browser, with the cookie and CSRF value of a login.
    const { cookie, csrf } = await login(base, dashboard.token as string);
    const res = await raw(`${base}/api/queue/pause`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'emails' }),
    });
    expect(res.status).toBe(403);
    await queue.resume();
    await page.close();
  });

  it('never sends the Redis password or user to the page', async () => {
    // Its own visit of every tab: the check does not lean on what the tests before it loaded.
    const from = bodies.length;
    const { dashboard, base } = await open(true);
    const page = await newPage();
    await logIn(page, base, dashboard.token as string);
    for (const [tab, shown] of [
      ['queues', 'queues'],
      ['locks', 'locks'],
      ['leaderboards', 'boards'],
      ['cache', 'cache'],
    ]) {
      await page.click(`button[data-tab=${tab}]`);
      await page.waitForSelector(`[data-testid=${shown}]`);
    }
    await page.close();
    expect(bodies.length - from).toBeGreaterThan(8);
    for (const body of bodies) {
      expect(body).not.toContain(PASSWORD);
      expect(body).not.toContain('default:');
    }
  });
});
