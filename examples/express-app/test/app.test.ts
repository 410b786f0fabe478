import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type RedisConnection } from '@redis-patterns/session';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';

describe.each(topologies())('express app example on $name', ({ url }) => {
  let redis: RedisConnection;
  let server: Server;
  let base: string;
  let queries = 0;

  beforeAll(async () => {
    redis = await connect({ url });
    const db = {
      async findProduct(id: string) {
        queries++;
        await new Promise((r) => setTimeout(r, 50));
        return id === '42' ? { id, name: 'Teapot', priceCents: 2_500 } : null;
      },
    };
    server = createApp({ redis, db, prefix: uniquePrefix('shop'), requestsPerMinute: 30 }).listen(
      0,
      '127.0.0.1',
    );
    await new Promise((ok) => server.once('listening', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
    await redis.close();
  });

  /** A client with a cookie jar of one cookie, like a browser. */
  function client() {
    let cookie = '';
    return async (path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const set = res.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0] as string;
      return {
        res,
        cookie,
        json: res.headers.get('content-type')?.includes('json') ? await res.json() : undefined,
      };
    };
  }

  it('serves 10 concurrent reads of a cold product with one database query, then invalidates by tag', async () => {
    const before = queries;
    const reads = await Promise.all(Array.from({ length: 10 }, () => fetch(`${base}/products/42`)));
    expect(reads.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(queries - before).toBe(1);
    expect((await fetch(`${base}/products/nope`)).status).toBe(404);
    expect((await fetch(`${base}/admin/prices-changed`, { method: 'POST' })).status).toBe(204);
    await fetch(`${base}/products/42`);
    expect(queries - before).toBe(3); // the unknown product, then 42 again after the invalidation
  });

  it('keeps the cart across login, rotates the session id, and logs out other devices', async () => {
    const browser = client();
    const added = await browser('/cart', { productId: '42' });
    expect(added.json).toEqual({ cart: ['42'] });
    const anonymous = added.cookie;
    const login = await browser('/login', { user: 'ann' });
    expect(login.json).toEqual({ user: 'ann', cart: ['42'] });
    expect(login.cookie).not.toBe(anonymous);

    // The pre-login cookie is worthless now.
    const stolen = await fetch(`${base}/cart`, {
      method: 'POST',
      headers: { cookie: anonymous, 'content-type': 'application/json' },
      body: JSON.stringify({ productId: '7' }),
    });
    expect(await stolen.json()).toEqual({ cart: ['7'] });

    const phone = client();
    await phone('/login', { user: 'ann' });
    const ended = await browser('/logout-everywhere', {});
    expect(ended.json).toEqual({ ended: 1 });
    expect((await phone('/logout-everywhere', {})).res.status).toBe(401);
  });

  it('answers 429 with Retry-After once a client exceeds its limit, but never for /health', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 35; i++) {
      const res = await fetch(`${base}/products/42`, { headers: { 'x-test': String(i) } });
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
