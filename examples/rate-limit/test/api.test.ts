import { connect, type RedisConnection } from '@redis-patterns/rate-limit';
import { startRedis, topologies, uniquePrefix } from '@redis-patterns/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../src/app.ts';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

describe.each(topologies())('rate-limited API example on $name', ({ url }) => {
  let redis: RedisConnection;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    redis = await connect({ url });
    app = await createApi({ redis, prefix: uniquePrefix('api') });
    base = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
    await redis?.close();
  });

  const search = (key: string) => fetch(`${base}/search?q=redis`, { headers: { 'x-api-key': key } });

  it('lets a burst of 10 through per API key, refuses the rest with 429 and the draft headers', async () => {
    const key = `k-${Math.random()}`;
    const started = performance.now();
    const responses = await Promise.all(Array.from({ length: 15 }, () => search(key)));
    const burstMs = performance.now() - started;
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    // The bucket refills 5 tokens a second: a burst that a loaded machine spreads over 200 ms or
    // more may rightly get one more through per 200 ms.
    expect(ok.length).toBeGreaterThanOrEqual(10);
    expect(ok.length).toBeLessThanOrEqual(10 + Math.floor(burstMs / 200));
    expect(refused.length).toBe(15 - ok.length);
    expect(ok[0]?.headers.get('ratelimit-policy')).toBe('"burst";q=10;w=2, "daily";q=1000;w=86400');
    const last = refused[0] as Response;
    expect(last.headers.get('retry-after')).toBe('1');
    // The refused requests were charged to neither limit: 990 left today (after 10), not 985.
    const header = last.headers.get('ratelimit') ?? '';
    expect(header).toMatch(/^"burst";r=0;t=1, "daily";r=\d+;t=\d+$/);
    const daily = Number(header.match(/"daily";r=(\d+)/)?.[1]);
    expect(daily).toBeGreaterThanOrEqual(1000 - ok.length);
    expect(daily).toBeLessThanOrEqual(990);
    expect(last.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // Another key is untouched, and the health check is never limited or counted.
    expect((await search(`other-${Math.random()}`)).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      const health = await fetch(`${base}/health`, { headers: { 'x-api-key': key } });
      expect(health.status).toBe(200);
      expect(health.headers.get('ratelimit')).toBeNull();
    }
  });

  it('lets a key in again once its Retry-After has passed', async () => {
    const key = `r-${Math.random()}`;
    await Promise.all(Array.from({ length: 10 }, () => search(key)));
    const refused = await search(key);
    expect(refused.status).toBe(429);
    await new Promise((r) => setTimeout(r, Number(refused.headers.get('retry-after')) * 1000));
    expect((await search(key)).status).toBe(200);
  });

  it('allows 5 login attempts per address in 15 minutes, then 429 with a long Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${base}/login`, {
        method: 'POST',
        headers: { 'x-api-key': `login-${i}-${Math.random()}` },
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(800);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });
});

describe('rate-limited API example with Redis down', () => {
  it('keeps serving searches (fail open) and refuses logins (fail closed) within the timeout', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url });
    const app = await createApi({ redis, prefix: uniquePrefix('api-down') });
    const base = await listen(app);
    try {
      await server.kill();
      const started = performance.now();
      const [search, login] = await Promise.all([
        fetch(`${base}/search?q=x`, { headers: { 'x-api-key': 'k' } }),
        fetch(`${base}/login`, { method: 'POST' }),
      ]);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(search.status).toBe(200);
      expect(login.status).toBe(503);
    } finally {
      await app.close();
      await redis.close();
      await server.stop();
    }
  });
});
