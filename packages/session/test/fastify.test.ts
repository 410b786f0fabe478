import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFastifyStore, type FastifySessionStore } from '../src/fastify.ts';
import { createSessionStore, handleOf, type SessionStore } from '../src/index.ts';
import { Browser, hash, keyOf, noSession, sleep, storedData } from './helpers.ts';

declare module 'fastify' {
  interface Session {
    userId?: string;
    cart?: string[];
    [field: string]: unknown;
  }
}

async function shop(store: FastifySessionStore): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    store,
    idGenerator: store.idGenerator,
    secret: 'a test secret that is at least 32 characters long',
    cookieName: 'sid',
    saveUninitialized: false,
    cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: 3_600_000 },
  });
  app.get('/me', async (request) => ({
    userId: request.session.userId ?? null,
    cart: request.session.cart ?? [],
  }));
  app.post<{ Params: { item: string } }>('/cart/:item', async (request) => {
    request.session.cart = [...(request.session.cart ?? []), request.params.item];
    return { cart: request.session.cart };
  });
  app.post<{ Params: { user: string } }>('/login/:user', async (request) => {
    await request.session.regenerate(['cart']); // a new id on login, keeping the cart
    request.session.userId = request.params.user;
    return { userId: request.params.user };
  });
  app.post('/logout', async (request) => {
    await request.session.destroy();
    return { ok: true };
  });
  app.post<{ Params: { field: string; ms: string } }>('/slow/:field/:ms', async (request) => {
    await sleep(Number(request.params.ms));
    request.session[request.params.field] = true;
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

describe.each(topologies())('@fastify/session adapter on $name', ({ url }) => {
  let redis: RedisConnection;
  let sessions: SessionStore;
  let app: FastifyInstance;
  let base: string;
  const prefix = uniquePrefix('session-fastify');
  const sidKey = (browser: Browser) => keyOf(prefix, browser.sessionId('sid') ?? '');

  beforeAll(async () => {
    redis = await connect({ url });
    sessions = createSessionStore({ redis, prefix, touchAfterMs: 60_000 });
    app = await shop(createFastifyStore(sessions, { userIdOf: (s) => s.userId as string | undefined }));
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
    await redis?.close();
  });

  it('keeps a cart, rotates the id on login, and forgets the pre-login id', async () => {
    const browser = new Browser(base);
    await browser.request('POST', '/cart/book');
    const anonymousId = browser.sessionId('sid');
    expect(anonymousId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const planted = browser.clone();
    await browser.request('POST', '/login/ann');
    expect(browser.sessionId('sid')).not.toBe(anonymousId);
    expect((await browser.request('GET', '/me')).body).toEqual({ userId: 'ann', cart: ['book'] });
    expect((await planted.request('GET', '/me')).body).toEqual({ userId: null, cart: [] });
    expect((await sessions.listForUser('ann')).map((s) => s.handle)).toEqual([
      handleOf(browser.sessionId('sid') ?? ''),
    ]);
  });

  it('turns rolling saves that change nothing but the cookie into no write at all', async () => {
    const browser = new Browser(base);
    await browser.request('POST', '/cart/pen');
    const key = sidKey(browser);
    const before = await hash(redis, key);
    for (let i = 0; i < 5; i++) expect((await browser.request('GET', '/me')).body.cart).toEqual(['pen']);
    const after = await hash(redis, key);
    expect(after.v).toBe(before.v); // no data write
    expect(after.r).toBe(before.r); // no refresh write (within touchAfterMs)
    // Once a refresh is due, the read slides the TTL to the cookie's maxAge (plus its skip window);
    // the rolled cookie is still not written: the lifetime it asks for has not changed.
    await redis.send(['HSET', key, 'r', String(Number(before.r) - 61_000)], { key });
    await browser.request('GET', '/me');
    const refreshed = await hash(redis, key);
    expect(Number(refreshed.r)).toBeGreaterThan(Number(before.r) - 61_000);
    expect(refreshed.v).toBe(before.v);
    const ttl = await redis.send<number>(['PTTL', key], { key });
    expect(ttl).toBeGreaterThan(3_600_000 + 55_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000 + 60_000);
  });

  it('logs out, and a slow request finishing later does not bring the session back', async () => {
    const browser = new Browser(base);
    await browser.request('POST', '/login/bob');
    const key = sidKey(browser);
    const slow = browser.clone().request('POST', '/slow/late/200');
    await sleep(50);
    await browser.request('POST', '/logout');
    expect((await slow).status).toBe(200);
    expect(await noSession(redis, key)).toBe(true);
    expect(await sessions.listForUser('bob')).toEqual([]);
  });

  it('keeps both properties when two slow requests change different ones at once', async () => {
    const browser = new Browser(base);
    await browser.request('POST', '/cart/mug');
    await Promise.all([
      browser.request('POST', '/slow/first/150'),
      browser.request('POST', '/slow/second/50'),
    ]);
    const stored = await storedData(redis, sidKey(browser));
    expect([stored.first, stored.second, stored.cart]).toEqual(['true', 'true', '["mug"]']);
  });
});
