/**
 * Compile-time checks, run by `tsc -p tsconfig.json` (not by vitest): the middleware fits each
 * framework's handler types in every usual placement, and a framework's own request type can be
 * passed as the type argument so key functions see the whole request.
 */
import express, { type Request } from 'express';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { type Context, Hono } from 'hono';
import {
  createExpressRateLimit,
  createFastifyRateLimit,
  createHonoRateLimit,
  type RateLimiter,
} from '../src/index.ts';

export function frameworkTypes(limiter: RateLimiter): void {
  const app = express();
  app.use(createExpressRateLimit<Request>({ limiter, key: (req) => req.path }));
  app.get('/route', createExpressRateLimit({ limiter }), (_req, res) => {
    res.send('ok');
  });

  const fastify = Fastify();
  fastify.addHook(
    'onRequest',
    createFastifyRateLimit<FastifyRequest, FastifyReply>({ limiter, key: (request) => request.hostname }),
  );
  fastify.get('/route', { onRequest: createFastifyRateLimit({ limiter }) }, async () => 'ok');
  fastify.get('/routes', { onRequest: [createFastifyRateLimit({ limiter })] }, async () => 'ok');

  const hono = new Hono();
  hono.use('*', createHonoRateLimit<Context>({ limiter, key: (c) => c.req.query('key') ?? 'anonymous' }));
  hono.get('/route', createHonoRateLimit({ limiter }), (c) => c.text('ok'));
}
