import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createLock } from '@redis-patterns/lock';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from '../src/index.ts';
import { launchBrowser, serve, watchProblems } from './dashboard-helpers.ts';

describe('the dashboard over a listing longer than one answer', { timeout: 30_000 }, () => {
  const [standalone] = topologies();
  const redisUrl = (standalone as { url: string }).url;
  const prefix = uniquePrefix('dash-many');
  let redis: RedisConnection;
  let dashboard: Dashboard;
  let http: { url: string; close(): Promise<void> };
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let locks: ReturnType<typeof createLock>;
  const held: Array<{ release(): Promise<unknown> }> = [];
  const names = Array.from({ length: 1500 }, (_, i) => `job-${String(i).padStart(4, '0')}`);

  beforeAll(async () => {
    redis = await connect({ url: redisUrl });
    locks = createLock({ redis, prefix, ttlMs: 60_000, autoExtend: false });
    // Far more keys than one answer scans: the first stops with a cursor.
    for (let i = 0; i < names.length; i += 100) {
      held.push(...(await Promise.all(names.slice(i, i + 100).map((name) => locks.acquire(name)))));
    }
    dashboard = createDashboard({ redis, prefixes: { lock: prefix }, token: 'a-long-enough-token' });
    http = await serve(dashboard.handler);
    browser = await launchBrowser();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await dashboard?.close();
    for (let i = 0; i < held.length; i += 100) {
      await Promise.all(held.slice(i, i + 100).map((lock) => lock.release()));
    }
    await locks?.close();
    await redis?.close();
  });

  it('offers Scan further when the lock listing stopped at its bound, and adds the next locks', async () => {
    const page = await browser.context.newPage();
    const problems = watchProblems(page);
    await page.goto(`${http.url}/`);
    await page.fill('input[name=token]', 'a-long-enough-token');
    await page.click('button[type=submit]');
    await page.click('button[data-tab=locks]');
    await page.waitForSelector('[data-testid=locks] td');
    const rows = () => page.locator('[data-testid=locks] tbody tr').count();
    const first = await rows();
    expect(first).toBeLessThan(names.length);
    await page.click('button[data-action=scan-further]');
    await expect.poll(rows).toBeGreaterThan(first);
    const shown = await page.locator('[data-testid=locks] tbody tr td:first-child').allTextContents();
    expect(new Set(shown).size).toBe(shown.length);
    expect(problems).toEqual([]);
    await page.close();
  });
});
