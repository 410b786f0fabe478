import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createQueue, type Queue } from '@redis-patterns/queue';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard, LOOPBACK_HOSTS } from '../src/index.ts';
import { login, raw, serve } from './dashboard-helpers.ts';

const json = { 'content-type': 'application/json' };

describe.each(topologies())('the dashboard API on $name', { timeout: 20_000 }, ({ url }) => {
  const prefix = uniquePrefix('dash-http');
  let redis: RedisConnection;
  let queues: Queue[];
  let dashboard: Dashboard;
  let http: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    redis = await connect({ url });
    // Names on different hash slots: on a Cluster they live on different masters.
    queues = ['alpha', 'bravo', 'charlie', 'delta'].map((name) => createQueue({ redis, name, prefix }));
    for (const [i, q] of queues.entries()) for (let n = 0; n <= i; n++) await q.add({ n });
    dashboard = createDashboard({
      redis,
      prefixes: { queue: prefix },
      allowWrites: true,
      sampleEveryMs: 100,
      allowedHosts: LOOPBACK_HOSTS,
    });
    http = await serve(dashboard.handler);
  });
  afterAll(async () => {
    await http?.close();
    await dashboard?.close();
    for (const q of queues ?? []) await q.purge().then(() => q.close());
    await redis?.close();
  });

  it('lists every queue with its counts, samples their history, and pauses one with the CSRF value', async () => {
    const bearer = { authorization: `Bearer ${dashboard.token}` };
    const list = JSON.parse((await raw(`${http.url}/api/queues`, { headers: bearer })).body);
    expect(list.queues.map((q: { name: string; waiting: number }) => [q.name, q.waiting])).toEqual([
      ['alpha', 1],
      ['bravo', 2],
      ['charlie', 3],
      ['delta', 4],
    ]);
    await expect
      .poll(async () => {
        const one = JSON.parse((await raw(`${http.url}/api/queue?name=delta`, { headers: bearer })).body);
        return one.history.depth.length;
      })
      .toBeGreaterThan(2);
    const { cookie, csrf } = await login(http.url, dashboard.token as string);
    const pause = (headers: Record<string, string>) =>
      raw(`${http.url}/api/queue/pause`, {
        method: 'POST',
        headers: { ...json, cookie, ...headers },
        body: '{"name":"charlie"}',
      });
    expect((await pause({})).status).toBe(403);
    expect((await pause({ 'x-csrf-token': 'guess' })).status).toBe(403);
    expect((await pause({ 'x-csrf-token': csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect(await queues[2]?.isPaused()).toBe(false);
    const ok = await pause({ 'x-csrf-token': csrf, origin: http.url });
    expect(JSON.parse(ok.body)).toEqual({ paused: true });
    expect(await queues[2]?.isPaused()).toBe(true);
  });
});

describe('the dashboard over HTTP', { timeout: 20_000 }, () => {
  const [standalone] = topologies();
  const redisUrl = (standalone as { url: string }).url;
  const prefix = uniquePrefix('dash-sec');
  let redis: RedisConnection;
  let dashboard: Dashboard;
  let http: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    redis = await connect({ url: redisUrl });
    await createQueue({ redis, name: 'jobs', prefix }).add({ n: 1 });
    dashboard = createDashboard({
      redis,
      prefixes: { queue: prefix },
      allowedHosts: LOOPBACK_HOSTS,
      sampleEveryMs: 100,
    });
    http = await serve(dashboard.handler);
  });
  afterAll(async () => {
    await http?.close();
    await dashboard?.close();
    await createQueue({ redis, name: 'jobs', prefix }).purge();
    await redis?.close();
  });

  it('answers 401 without a login, a wrong token or a wrong bearer, and serves the page with strict headers', async () => {
    expect(dashboard.token).toMatch(/^[\w-]{43}$/);
    expect((await raw(`${http.url}/api/queues`, {})).status).toBe(401);
    expect((await raw(`${http.url}/api/queues`, { headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
    const wrong = await raw(`${http.url}/login`, { method: 'POST', headers: json, body: '{"token":"nope"}' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const page = await raw(`${http.url}/`, {});
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const { cookie } = await login(http.url, dashboard.token as string);
    const api = await raw(`${http.url}/api/queues`, { headers: { cookie } });
    expect(api.status).toBe(200);
    expect(api.headers['cache-control']).toBe('no-store');
  });

  it('sets an HttpOnly, SameSite=Strict cookie and refuses a login posted from another origin', async () => {
    const res = await raw(`${http.url}/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token: dashboard.token }),
    });
    expect(String(res.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const cross = await raw(`${http.url}/login`, {
      method: 'POST',
      headers: { ...json, origin: 'http://evil.example' },
      body: JSON.stringify({ token: dashboard.token }),
    });
    expect(cross.status).toBe(403);
  });

  it('refuses a Host that is not loopback (DNS rebinding), even with the token', async () => {
    const res = await raw(`${http.url}/api/queues`, {
      headers: { host: 'rebound.example:80', authorization: `Bearer ${dashboard.token}` },
    });
    expect(res.status).toBe(421);
  });

  it('refuses a short token and a bad sampling period before anything starts', () => {
    expect(() => createDashboard({ redis, token: 'short' })).toThrow(/token: is shorter than 8/);
    expect(() => createDashboard({ redis, sampleEveryMs: 0 })).toThrow(/sampleEveryMs/);
  });

  it('stops sampling on close(), then answers 503', async () => {
    const sampled = createDashboard({
      redis,
      prefixes: { queue: prefix },
      sampleEveryMs: 50,
      token: 'a-long-token',
    });
    const own = await serve(sampled.handler);
    const queueInfo = () =>
      raw(`${own.url}/api/queue?name=jobs`, { headers: { authorization: 'Bearer a-long-token' } });
    try {
      await expect
        .poll(async () => JSON.parse((await queueInfo()).body).history.depth.length)
        .toBeGreaterThan(3);
      await sampled.close();
      const after = await queueInfo();
      expect([after.status, JSON.parse(after.body).error.message]).toEqual([
        503,
        'the dashboard was closed.',
      ]);
    } finally {
      await own.close();
    }
  });

  it('read-only by default: a write with a valid login and CSRF value gets 403', async () => {
    const { cookie, csrf } = await login(http.url, dashboard.token as string);
    const res = await raw(`${http.url}/api/queue/pause`, {
      method: 'POST',
      headers: { ...json, cookie, 'x-csrf-token': csrf },
      body: '{"name":"jobs"}',
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.message).toContain('read-only');
  });
});
