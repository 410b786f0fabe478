import type { RedisConnection } from '@redis-patterns/rate-limit';
import {
  all,
  createFastifyRateLimit,
  createRateLimiter,
  fixedWindow,
  slidingWindowLog,
  tokenBucket,
} from '@redis-patterns/rate-limit';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';

export interface ApiOptions {
  redis: RedisConnection;
  /** Key prefix of every limiter. @default 'api:rl:' */
  prefix?: string;
}

/**
 * A public API's limits. Every API key gets a burst of 10 requests refilled at 5 per second and
 * 1,000 a day, checked together (a refused request is charged to neither). Logins get 5 attempts
 * per client address in any 15 minutes, exactly, and are refused while Redis is unreachable.
 */
export async function createApi(options: ApiOptions): Promise<FastifyInstance> {
  const { redis } = options;
  const prefix = options.prefix ?? 'api:rl:';
  const perKey = all([
    createRateLimiter({
      redis,
      prefix: `${prefix}burst:`,
      name: 'burst',
      algorithm: tokenBucket({ ratePerSec: 5, burst: 10 }),
    }),
    createRateLimiter({
      redis,
      prefix: `${prefix}day:`,
      name: 'daily',
      algorithm: fixedWindow({ limit: 1_000, windowMs: 86_400_000 }),
    }),
  ]);
  const logins = createRateLimiter({
    redis,
    prefix: `${prefix}login:`,
    name: 'login',
    algorithm: slidingWindowLog({ limit: 5, windowMs: 15 * 60_000 }),
    failMode: 'closed',
  });

  const app = Fastify();
  // Every request with an API key (else the client address); the health check is never limited.
  app.addHook(
    'onRequest',
    createFastifyRateLimit<FastifyRequest>({
      limiter: perKey,
      key: (request) => String(request.headers['x-api-key'] ?? request.ip),
      skip: (request) => request.url === '/health',
    }),
  );
  app.get('/health', async () => ({ ok: true }));
  app.get<{ Querystring: { q?: string } }>('/search', async (request) => ({
    results: [`result for ${request.query.q ?? ''}`],
  }));
  // Login attempts on top of the per-key limits, by client address (IPv6 grouped by /56).
  app.post(
    '/login',
    { onRequest: createFastifyRateLimit<FastifyRequest>({ limiter: logins }) },
    async () => ({
      ok: false,
      reason: 'wrong password',
    }),
  );
  return app;
}
