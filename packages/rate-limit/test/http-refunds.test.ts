import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createExpressRateLimit,
  createFastifyRateLimit,
  createHonoRateLimit,
  createNodeRateLimit,
  createRateLimiter,
  fixedWindow,
  type HttpRateLimitOptions,
  type RateLimiter,
} from '../src/index.ts';

/** What the middleware is given in every framework: the limiter and which responses to give back. */
type Counting = Pick<HttpRateLimitOptions<unknown>, 'skipSuccessfulRequests' | 'skipFailedRequests'>;

interface App {
  base: string;
  /** Requests the handler has seen. */
  handled(): number;
  close(): Promise<void>;
}

/** `/login` answers 200 with `x-ok: 1`, else 401, after a few ms; a plan header picks the limit. */
type Start = (limiter: RateLimiter, counting: Counting) => Promise<App>;

const planLimit = (plan: unknown) => (plan === 'pro' ? 6 : 3);

async function listen(server: Server, handled: () => number): Promise<App> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handled,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const frameworks: Array<[string, Start]> = [
  [
    'node:http',
    async (limiter, counting) => {
      let handled = 0;
      const guard = createNodeRateLimit({
        limiter,
        ...counting,
        limit: (req) => planLimit(req.headers['x-plan']),
      });
      const server = createServer(async (req, res) => {
        if (!(await guard(req, res))) return;
        handled++;
        await sleep(5);
        res.statusCode = req.headers['x-ok'] ? 200 : 401;
        res.end();
      });
      return listen(server, () => handled);
    },
  ],
  [
    'Express 5',
    async (limiter, counting) => {
      let handled = 0;
      const app = express();
      app.use(
        createExpressRateLimit({ limiter, ...counting, limit: (req) => planLimit(req.headers['x-plan']) }),
      );
      app.post('/login', async (req, res) => {
        handled++;
        await sleep(5);
        res.status(req.headers['x-ok'] ? 200 : 401).end();
      });
      return listen(createServer(app), () => handled);
    },
  ],
  [
    'Fastify 5',
    async (limiter, counting) => {
      let handled = 0;
      const app = Fastify();
      app.addHook(
        'onRequest',
        createFastifyRateLimit({
          limiter,
          ...counting,
          limit: (request) => planLimit(request.headers['x-plan']),
        }),
      );
      app.post('/login', async (request, reply) => {
        handled++;
        await sleep(5);
        return reply.code(request.headers['x-ok'] ? 200 : 401).send();
      });
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      return { base, handled: () => handled, close: () => app.close() };
    },
  ],
  [
    'Hono 4',
    async (limiter, counting) => {
      let handled = 0;
      const app = new Hono();
      app.use(
        '*',
        createHonoRateLimit({ limiter, ...counting, limit: (c) => planLimit(c.req.header('x-plan')) }),
      );
      app.post('/login', async (c) => {
        handled++;
        await sleep(5);
        return c.body(null, c.req.header('x-ok') ? 200 : 401);
      });
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
      });
      return {
        base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        handled: () => handled,
        async close() {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
  ],
];

describe.each(topologies())('counting only what should count on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl-refund');
  let n = 0;
  const limiter = () =>
    createRateLimiter({
      redis,
      prefix: `${prefix}${n++}:`,
      algorithm: fixedWindow({ limit: 10, windowMs: 60_000 }),
    });
  const login = (base: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/login`, { method: 'POST', headers }).then(async (res) => {
      await res.arrayBuffer();
      return res.status;
    });
  /** The units left for the test client once the refunds in flight have landed. */
  const settled = async (l: RateLimiter, expected: number, options = {}) => {
    for (let i = 0; i < 100; i++) {
      if ((await l.peek('127.0.0.1', options)).remaining === expected) return expected;
      await sleep(10);
    }
    return (await l.peek('127.0.0.1', options)).remaining;
  };

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  describe.each(frameworks)('%s', (_, start) => {
    it('lets no more than the limit of a concurrent burst of failing logins reach the handler', async () => {
      const l = limiter();
      const app = await start(l, { skipSuccessfulRequests: true });
      try {
        const statuses = await Promise.all(Array.from({ length: 20 }, () => login(app.base)));
        expect(statuses.filter((s) => s === 401)).toHaveLength(3);
        expect(statuses.filter((s) => s === 429)).toHaveLength(17);
        expect(app.handled()).toBe(3);
      } finally {
        await app.close();
      }
    });

    it('gives back successful requests with skipSuccessfulRequests, keeping the per-request limit', async () => {
      const l = limiter();
      const app = await start(l, { skipSuccessfulRequests: true });
      try {
        for (let i = 0; i < 8; i++) expect(await login(app.base, { 'x-ok': '1', 'x-plan': 'pro' })).toBe(200);
        expect(await settled(l, 6, { limit: 6 })).toBe(6);
        expect(await login(app.base, { 'x-plan': 'pro' })).toBe(401);
        expect(await settled(l, 5, { limit: 6 })).toBe(5);
      } finally {
        await app.close();
      }
    });

    it('gives back failed requests with skipFailedRequests and counts the successful ones', async () => {
      const l = limiter();
      const app = await start(l, { skipFailedRequests: true });
      try {
        for (let i = 0; i < 5; i++) expect(await login(app.base)).toBe(401);
        expect(await settled(l, 3, { limit: 3 })).toBe(3);
        for (let i = 0; i < 3; i++) expect(await login(app.base, { 'x-ok': '1' })).toBe(200);
        expect(await login(app.base, { 'x-ok': '1' })).toBe(429);
      } finally {
        await app.close();
      }
    });
  });
});
