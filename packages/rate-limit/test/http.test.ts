import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  all,
  createExpressRateLimit,
  createFastifyRateLimit,
  createHonoRateLimit,
  createHttpGuard,
  createNodeRateLimit,
  createRateLimiter,
  fixedWindow,
  type RateLimiter,
  slidingWindowLog,
} from '../src/index.ts';

/** What every app under test does: `/` and `/health` answer "ok"; the middleware sits in front. */
interface Setup {
  limiter: RateLimiter;
  allowList?: string[];
  byApiKey?: boolean;
}
interface Running {
  base: string;
  close(): Promise<void>;
}

const skipHealth = (path: string | undefined) => path === '/health';

async function listen(server: Server): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const frameworks: Array<[string, (setup: Setup) => Promise<Running>]> = [
  [
    'node:http',
    async ({ limiter, allowList, byApiKey }) => {
      const guard = createNodeRateLimit({
        limiter,
        skip: (req) => skipHealth(req.url),
        ...(allowList ? { allowList } : {}),
        ...(byApiKey ? { key: (req) => String(req.headers['x-api-key']) } : {}),
      });
      return listen(createServer(async (req, res) => (await guard(req, res)) && res.end('ok')));
    },
  ],
  [
    'Express 5',
    async ({ limiter, allowList, byApiKey }) => {
      const app = express();
      app.use(
        createExpressRateLimit({
          limiter,
          skip: (req) => skipHealth(req.url),
          ...(allowList ? { allowList } : {}),
          ...(byApiKey ? { key: (req) => String(req.headers['x-api-key']) } : {}),
        }),
      );
      app.get(['/', '/health'], (_req, res) => {
        res.send('ok');
      });
      return listen(createServer(app));
    },
  ],
  [
    'Fastify 5',
    async ({ limiter, allowList, byApiKey }) => {
      const app = Fastify();
      app.addHook(
        'onRequest',
        createFastifyRateLimit({
          limiter,
          skip: (request) => skipHealth(request.url),
          ...(allowList ? { allowList } : {}),
          ...(byApiKey ? { key: (request) => String(request.headers['x-api-key']) } : {}),
        }),
      );
      app.get('/', async () => 'ok');
      app.get('/health', async () => 'ok');
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      return { base: address, close: () => app.close() };
    },
  ],
  [
    'Hono 4',
    async ({ limiter, allowList, byApiKey }) => {
      const app = new Hono();
      app.use(
        '*',
        createHonoRateLimit({
          limiter,
          skip: (c) => skipHealth(c.req.path),
          ...(allowList ? { allowList } : {}),
          ...(byApiKey ? { key: (c) => c.req.header('x-api-key') ?? 'anonymous' } : {}),
        }),
      );
      app.get('/', (c) => c.text('ok'));
      app.get('/health', (c) => c.text('ok'));
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
      });
      return {
        base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        async close() {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
  ],
];

describe.each(topologies())('HTTP middleware on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl-http');
  let n = 0;
  const perMinute = () =>
    createRateLimiter({
      redis,
      prefix: `${prefix}${n++}:`,
      name: 'per-minute',
      algorithm: slidingWindowLog({ limit: 3, windowMs: 60_000 }),
    });

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  describe.each(frameworks)('%s', (_, start) => {
    it('sends RateLimit headers, then 429 with Retry-After and a problem body past the limit', async () => {
      const limiter = perMinute();
      const app = await start({ limiter });
      try {
        for (const remaining of [2, 1, 0]) {
          const res = await fetch(`${app.base}/`);
          expect(res.status).toBe(200);
          expect(await res.text()).toBe('ok');
          expect(res.headers.get('ratelimit-policy')).toBe('"per-minute";q=3;w=60');
          expect(res.headers.get('ratelimit')).toBe(`"per-minute";r=${remaining};t=60`);
          expect(res.headers.get('retry-after')).toBeNull();
        }
        const refused = await fetch(`${app.base}/`);
        expect(refused.status).toBe(429);
        const retryAfter = Number(refused.headers.get('retry-after'));
        // The oldest of the three calls leaves the 60 s window within the next minute.
        expect(retryAfter).toBeGreaterThanOrEqual(55);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(refused.headers.get('ratelimit')).toBe(`"per-minute";r=0;t=${retryAfter}`);
        expect(refused.headers.get('ratelimit-policy')).toBe('"per-minute";q=3;w=60');
        // Fastify appends "; charset=utf-8" to string payloads; the media type is what matters.
        expect(refused.headers.get('content-type')?.split(';')[0]).toBe('application/problem+json');
        expect(await refused.json()).toEqual({
          type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
          title: 'Too many requests: the rate limit was exceeded.',
          status: 429,
          'violated-policies': ['per-minute'],
        });
        // Skipped paths pass, carry no headers and are not counted.
        const health = await fetch(`${app.base}/health`);
        expect(health.status).toBe(200);
        expect(health.headers.get('ratelimit')).toBeNull();
        expect((await limiter.peek('127.0.0.1')).remaining).toBe(0);
      } finally {
        await app.close();
      }
    });

    it('never limits nor counts clients on the allow list', async () => {
      const limiter = perMinute();
      const app = await start({ limiter, allowList: ['::ffff:127.0.0.1'] });
      try {
        for (let i = 0; i < 5; i++) {
          const res = await fetch(`${app.base}/`);
          expect(res.status).toBe(200);
          expect(res.headers.get('ratelimit')).toBeNull();
        }
        expect((await limiter.peek('127.0.0.1')).remaining).toBe(3);
      } finally {
        await app.close();
      }
    });

    it('limits by a key function, reporting every policy of a combined limiter', async () => {
      const perSecond = createRateLimiter({
        redis,
        prefix: `${prefix}${n++}:`,
        name: 'burst',
        algorithm: fixedWindow({ limit: 2, windowMs: 10_000 }),
      });
      const app = await start({ limiter: all([perSecond, perMinute()]), byApiKey: true });
      try {
        const call = (key: string) => fetch(`${app.base}/`, { headers: { 'x-api-key': key } });
        expect((await call('alice')).status).toBe(200);
        const second = await call('alice');
        expect(second.headers.get('ratelimit-policy')).toBe('"burst";q=2;w=10, "per-minute";q=3;w=60');
        expect(second.headers.get('ratelimit')).toBe('"burst";r=0;t=10, "per-minute";r=1;t=60');
        const third = await call('alice');
        expect(third.status).toBe(429);
        expect(await third.json()).toMatchObject({ 'violated-policies': ['burst'] });
        // Another key has its own quota.
        expect((await call('bob')).status).toBe(200);
      } finally {
        await app.close();
      }
    });
  });

  it('allows exactly the listed IPv6 address, not its whole subnet; a subnet key allows the subnet', async () => {
    const limiter = perMinute();
    const req = (address: string) => ({ address });
    const guard = createHttpGuard(
      { limiter, allowList: ['2001:db8:aa:bb01::1', '2001:db8:cc:dd00::/56'] },
      (r: { address: string }) => r.address,
    );
    for (let i = 0; i < 5; i++) expect((await guard(req('2001:db8:aa:bb01::1'))).respond).toBe(false);
    expect((await guard(req('2001:db8:cc:dd42::9'))).respond).toBe(false);
    // A neighbour in the listed address's /56 is limited and counted.
    const neighbour = [];
    for (let i = 0; i < 4; i++) neighbour.push(await guard(req('2001:db8:aa:bb01::2')));
    expect(neighbour.map((d) => d.respond)).toEqual([false, false, false, true]);
  });
});
