import { connect, type RedisConnection } from '@redis-patterns/session';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountsApi } from '../src/app.ts';

describe.each(topologies())('accounts example on $name', ({ url }) => {
  let redis: RedisConnection;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    redis = await connect({ url });
    app = await createAccountsApi({
      redis,
      secret: 'a test secret that is at least 32 characters long',
      prefix: uniquePrefix('accounts'),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
    await redis?.close();
  });

  /** A browser: one cookie jar. */
  function browser() {
    let cookie = '';
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const set = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
      if (set !== undefined) cookie = set.split(';')[0] as string;
      return { status: res.status, body: await res.json() };
    };
    return { call, cookie: () => cookie };
  }

  it('gives a new session id on login, so a planted one is worthless', async () => {
    const attacker = browser();
    await attacker.call('POST', '/login', { user: 'mallory', device: 'laptop' });
    const planted = attacker.cookie();
    // The victim's browser carries the attacker's cookie when the victim signs in.
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { cookie: planted, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'vic', device: 'phone' }),
    });
    const fresh = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('sid='))
      ?.split(';')[0];
    expect(fresh).toMatch(/^sid=/);
    expect(fresh).not.toBe(planted);
    const me = async (cookie: string) => (await fetch(`${base}/me`, { headers: { cookie } })).json();
    expect(await me(fresh as string)).toEqual({ user: 'vic' });
    // The planted id opens nothing any more: not the victim's session, not the old one.
    expect(await me(planted)).toEqual({ user: null });
  });

  it('lists a user devices, logs out one of them, then every other one', async () => {
    const user = `ann-${Math.random()}`;
    const laptop = browser();
    const phone = browser();
    const tablet = browser();
    await laptop.call('POST', '/login', { user, device: 'laptop' });
    await phone.call('POST', '/login', { user, device: 'phone' });
    await tablet.call('POST', '/login', { user, device: 'tablet' });

    const devices = (await laptop.call('GET', '/devices')).body as Array<{
      handle: string;
      device: string;
      current: boolean;
    }>;
    expect(devices.map((d) => d.device)).toEqual(['laptop', 'phone', 'tablet']);
    expect(devices.filter((d) => d.current).map((d) => d.device)).toEqual(['laptop']);

    // Log the tablet out from the laptop.
    const tabletHandle = devices.find((d) => d.device === 'tablet')?.handle as string;
    expect((await laptop.call('POST', `/devices/${tabletHandle}/logout`)).body).toEqual({ ended: true });
    expect((await tablet.call('GET', '/me')).body).toEqual({ user: null });

    // Someone else cannot end the laptop's session by its handle.
    const stranger = browser();
    await stranger.call('POST', '/login', { user: `eve-${Math.random()}`, device: 'pc' });
    const laptopHandle = devices.find((d) => d.device === 'laptop')?.handle as string;
    expect((await stranger.call('POST', `/devices/${laptopHandle}/logout`)).body).toEqual({ ended: false });

    // "Log out everywhere else": the phone goes, the laptop stays.
    expect((await laptop.call('POST', '/logout-everywhere-else')).body).toEqual({ ended: 1 });
    expect((await phone.call('GET', '/me')).body).toEqual({ user: null });
    expect((await laptop.call('GET', '/me')).body).toEqual({ user });
    expect(((await laptop.call('GET', '/devices')).body as unknown[]).length).toBe(1);

    await laptop.call('POST', '/logout');
    expect((await laptop.call('GET', '/devices')).status).toBe(401);
  });
});
