import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createQueue, type Queue } from '@redis-patterns/queue';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../src/index.ts';
import { raw } from './dashboard-helpers.ts';

const json = { 'content-type': 'application/json' };

/** The README's auth: the header `x-admin-key` compared in constant time with the app's secret. */
const ADMIN_KEY = 'admin-key-for-the-test';
const digest = (text: string) => createHash('sha256').update(text).digest();
const isAdmin = (given: unknown) =>
  typeof given === 'string' && timingSafeEqual(digest(given), digest(ADMIN_KEY));

describe('the dashboard mounted in an app behind its own auth', { timeout: 20_000 }, () => {
  const [standalone] = topologies();
  const redisUrl = (standalone as { url: string }).url;
  const prefix = uniquePrefix('dash-mount');
  let redis: RedisConnection;
  let queue: Queue;

  beforeAll(async () => {
    redis = await connect({ url: redisUrl });
    queue = createQueue({ redis, name: 'mounted', prefix });
    await queue.add({ n: 1 }, { id: 'm1' });
  });
  afterAll(async () => {
    await queue?.purge();
    await redis?.close();
  });

  async function check(base: string) {
    expect((await raw(`${base}/ops/api/queues`, {})).status).toBe(401);
    expect((await raw(`${base}/ops/api/queues`, { headers: { 'x-admin-key': 'wrong' } })).status).toBe(401);
    const admin = { 'x-admin-key': ADMIN_KEY };
    const bare = await raw(`${base}/ops`, { headers: admin });
    expect([bare.status, bare.headers.location]).toEqual([308, '/ops/']);
    const page = await raw(`${base}/ops/`, { headers: admin });
    expect(page.status).toBe(200);
    expect(page.body).toContain('src="app.js"');
    expect((await raw(`${base}/ops/vendor/uplot.js`, { headers: admin })).status).toBe(200);
    const list = JSON.parse((await raw(`${base}/ops/api/queues`, { headers: admin })).body);
    expect(list.queues).toMatchObject([{ name: 'mounted', waiting: 1 }]);
    const me = JSON.parse((await raw(`${base}/ops/api/me`, { headers: admin })).body);
    const retry = (headers: Record<string, string>) =>
      raw(`${base}/ops/api/queue/remove`, {
        method: 'POST',
        headers: { ...admin, ...json, ...headers },
        body: JSON.stringify({ name: 'mounted', id: 'm1' }),
      });
    expect((await retry({})).status).toBe(403);
    expect(JSON.parse((await retry({ 'x-csrf-token': me.csrf })).body)).toEqual({
      id: 'm1',
      result: 'removed',
    });
    await queue.add({ n: 1 }, { id: 'm1' });
    await bypasses(base, me.csrf);
  }

  /** Encoded and dotted paths, without the admin key: none reaches the API. */
  async function bypasses(base: string, csrf: string) {
    for (const path of [
      '/%6fps/api/queues',
      '/%6fps/../api/queues',
      '/%6Fps/%2e%2e/api/queues',
      '/ops/x/../api/queues',
      '/ops/x/%2e%2e/api/queues',
      '/ops%2fapi/queues',
      '/api/queues',
    ]) {
      const res = await raw(base, { path });
      expect([path, res.status]).not.toEqual([path, 200]);
      expect(res.body).not.toContain('mounted');
    }
    for (const path of ['/%6fps/../api/queue/pause', '/%6fps/api/queue/pause']) {
      const res = await raw(base, {
        path,
        method: 'POST',
        headers: { ...json, 'x-csrf-token': csrf },
        body: '{"name":"mounted"}',
      });
      expect([path, res.status]).not.toEqual([path, 200]);
    }
    expect(await queue.isPaused()).toBe(false);
  }

  it('works under /ops in Express 5, as the README mounts it', async () => {
    const dashboard = createDashboard({
      redis,
      prefixes: { queue: prefix },
      token: false,
      allowWrites: true,
    });
    const app = express();
    app.use('/ops', (req, res, next) => (isAdmin(req.get('x-admin-key')) ? next() : res.sendStatus(401)));
    app.use('/ops', dashboard.handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await check(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await dashboard.close();
    }
  });

  it('works under /ops in Fastify 5, as the README mounts it (one plugin with the hook and the routes)', async () => {
    const dashboard = createDashboard({
      redis,
      prefixes: { queue: prefix },
      token: false,
      allowWrites: true,
      basePath: '/ops',
    });
    const app = Fastify();
    await app.register(
      async (ops) => {
        ops.addHook('onRequest', async (req, reply) => {
          if (!isAdmin(req.headers['x-admin-key'])) await reply.code(401).send();
        });
        ops.removeAllContentTypeParsers();
        ops.addContentTypeParser('*', (_req, _body, done) => done(null));
        for (const path of ['/', '/*']) {
          ops.all(path, (req, reply) => {
            reply.hijack();
            dashboard.handler(req.raw, reply.raw);
          });
        }
      },
      { prefix: '/ops' },
    );
    // Outside the plugin the app's own JSON parsing still works.
    app.post('/echo', async (req) => req.body);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await check(address);
      const echo = await raw(`${address}/echo`, { method: 'POST', headers: json, body: '{"a":1}' });
      expect(JSON.parse(echo.body)).toEqual({ a: 1 });
    } finally {
      await app.close();
      await dashboard.close();
    }
  });
});
