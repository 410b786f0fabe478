import * as http from 'node:http';
import type { RedisConnection } from '@redis-patterns/connection';
import { type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createExpressStore } from '../src/express.ts';
import { createFastifyStore } from '../src/fastify.ts';
import { createSessionStore, type SessionStoreOptions } from '../src/index.ts';
import { Browser, keyOf, noSession, pttl, sleep } from './helpers.ts';
import {
  connectRedisStore,
  type FastifyStore,
  type LoginAppOptions,
  type NodeRedisClient,
  type RunningApp,
  startExpressApp,
  startFastifyApp,
  withClients,
} from './http-apps.ts';

// Every scenario runs at once on four apps: Express and Fastify, each on our store and on
// connect-redis 9 (over a node-redis cluster client on Cluster, which connect-redis 9 supports).
const SITES = ['express+ours', 'express+connect-redis', 'fastify+ours', 'fastify+connect-redis'] as const;
type SiteName = (typeof SITES)[number];

interface Site extends RunningApp {
  name: SiteName;
  ours: boolean;
  /** The Redis key the site's store keeps a session id under. */
  keyOf(sid: string): string;
}

const DAY_MS = 86_400_000;
const userIdOf = (session: object) => (session as { userId?: string }).userId;

/** POST /login/<user>, then GET /me with its Set-Cookie the moment the headers arrive, before the body. */
function loginThenPeek(base: string, user: string): Promise<boolean> {
  const { hostname: host, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const login = http.request(
      { host, port, method: 'POST', path: `/login/${user}`, agent: false },
      (res) => {
        const cookie = (res.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]).join('; ');
        const me = http.request({ host, port, path: '/me', agent: false, headers: { cookie } }, (answer) => {
          let body = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => {
            body += chunk;
          });
          answer.on('end', () => resolve((JSON.parse(body) as { userId: unknown }).userId === user));
          answer.on('error', reject);
        });
        me.on('error', reject);
        me.end();
        res.resume();
      },
    );
    login.on('error', reject);
    login.end();
  });
}

describe.each(topologies())('session lifetimes over HTTP on $name', (topology: Topology) => {
  let redis: RedisConnection;
  let client: NodeRedisClient;
  withClients(topology, (opened, legacyClient) => {
    redis = opened;
    client = legacyClient;
  });

  async function startSite(name: SiteName, app: LoginAppOptions, store: Partial<SessionStoreOptions>) {
    const ours = name.endsWith('+ours');
    const prefix = uniquePrefix(`session-http-${ours ? 'ours' : 'cr'}`);
    let running: RunningApp;
    if (ours) {
      const sessions = createSessionStore({ ...store, redis, prefix });
      if (name.startsWith('express')) {
        const express = createExpressStore(sessions, { userIdOf });
        running = await startExpressApp(express, { genid: express.genid, ...app });
      } else {
        const fastify = createFastifyStore(sessions, { userIdOf });
        running = await startFastifyApp(fastify, { genid: fastify.idGenerator, ...app });
      }
    } else {
      const legacy = connectRedisStore(client, prefix);
      running = name.startsWith('express')
        ? await startExpressApp(legacy, app)
        : await startFastifyApp(legacy as unknown as FastifyStore, app);
    }
    const keyFor = (sid: string) => (ours ? keyOf(prefix, sid) : `${prefix}${sid}`);
    return { ...running, name, ours, keyOf: keyFor } satisfies Site;
  }

  /** Starts the four sites, runs `scenario` on all of them at once, stops them; results by site. */
  async function onEverySite<T>(
    app: LoginAppOptions,
    scenario: (site: Site) => Promise<T>,
    store: Partial<SessionStoreOptions> = {},
  ): Promise<Record<SiteName, T>> {
    const started = await Promise.allSettled(SITES.map((name) => startSite(name, app, store)));
    const sites = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      const results = await Promise.all(sites.map(scenario));
      return Object.fromEntries(sites.map((site, i) => [site.name, results[i]])) as Record<SiteName, T>;
    } finally {
      await Promise.all(sites.map((site) => site.close()));
    }
  }

  const everywhere = <T>(value: T) => Object.fromEntries(SITES.map((name) => [name, value]));

  it('keeps an active user logged in past a 3 s maxAge with a request every 500 ms for 6 s', async () => {
    // Before the fix, @fastify/session on our store logged this user out at 3 s: the stored cookie
    // kept the login's `expires`, and the plugin ends a session whose stored expiry has passed.
    const loggedOutAfter = await onEverySite({ maxAgeMs: 3_000, rolling: true }, async (site) => {
      const browser = new Browser(site.base);
      await browser.request('POST', '/login/active');
      const start = Date.now();
      for (let i = 0; i < 12; i++) {
        await sleep(500);
        const { body } = await browser.request('GET', '/me');
        if (body.userId !== 'active') return `logged out after ${Date.now() - start} ms`;
      }
      return 'still logged in';
    });
    expect(loggedOutAfter).toEqual(everywhere('still logged in'));
  });

  it('keeps a 4 s session alive through reads at 1 s and 4.5 s with touchAfterMs 2 s', async () => {
    // A skip window of 2 s would leave the read at 1 s unwritten and end the session at 4 s; a
    // cookie's own idle timeout skips for at most a tenth of it (0.4 s) and reaches that far past it.
    const answers = await onEverySite(
      { maxAgeMs: 4_000 },
      async (site) => {
        const browser = new Browser(site.base);
        await browser.request('POST', '/login/reader');
        await sleep(1_000);
        const first = (await browser.request('GET', '/me')).body.userId;
        await sleep(3_500);
        return [first, (await browser.request('GET', '/me')).body.userId];
      },
      { touchAfterMs: 2_000 },
    );
    expect(answers).toEqual(everywhere(['reader', 'reader']));
  });

  it('logs out a user idle longer than a 2 s maxAge, and Redis drops the session', async () => {
    const after = await onEverySite({ maxAgeMs: 2_000 }, async (site) => {
      const browser = new Browser(site.base);
      await browser.request('POST', '/login/idle');
      const key = site.keyOf(browser.sessionId('sid') ?? '');
      const storedAtLogin = await redis.send<number>(['EXISTS', key], { key });
      await sleep(3_000);
      const { body } = await browser.request('GET', '/me');
      return {
        storedAtLogin,
        userId: body.userId,
        stored: await redis.send<number>(['EXISTS', key], { key }),
      };
    });
    expect(after).toEqual(everywhere({ storedAtLogin: 1, userId: null, stored: 0 }));
  });

  it("gives a remember-me login's session the cookie's 30 days in Redis, and a 60 s cookie 60 s", async () => {
    const ttls = await onEverySite({ maxAgeMs: 3_600_000 }, async (site) => {
      const ttlAfterLogin = async (maxAge: number) => {
        const browser = new Browser(site.base);
        await browser.request('POST', `/login/keeper?maxAge=${maxAge}`);
        return pttl(redis, site.keyOf(browser.sessionId('sid') ?? ''));
      };
      return { remembered: await ttlAfterLogin(30 * DAY_MS), short: await ttlAfterLogin(60_000) };
    });
    const within = (low: number, high: number) =>
      expect.toSatisfy((ms: number) => ms > low && ms <= high, `a PTTL in (${low}, ${high}]`);
    // Ours: the cookie's maxAge plus its skip window, min(touchAfterMs, maxAge / 10): 60 s and 6 s.
    const ours = { remembered: within(30 * DAY_MS, 30 * DAY_MS + 60_000), short: within(58_000, 66_000) };
    // connect-redis: EX ceil((expires - now) / 1000).
    const theirs = { remembered: within(30 * DAY_MS - 5_000, 30 * DAY_MS), short: within(55_000, 60_000) };
    expect(ttls).toEqual({
      'express+ours': ours,
      'fastify+ours': ours,
      'express+connect-redis': theirs,
      'fastify+connect-redis': theirs,
    });
  });

  it('does not bring a session back when a request started before logout saves after it', async () => {
    const outcome = await onEverySite({ maxAgeMs: 600_000 }, async (site) => {
      const browser = new Browser(site.base);
      await browser.request('POST', '/login/leaver');
      const key = site.keyOf(browser.sessionId('sid') ?? '');
      const stolen = browser.clone(); // the same cookie, kept by someone after the logout
      const slow = browser.clone().request('POST', '/slow/800');
      await sleep(100);
      await browser.request('POST', '/logout');
      expect((await slow).status).toBe(200);
      const stored = site.ours
        ? !(await noSession(redis, key))
        : (await redis.send<number>(['EXISTS', key], { key })) === 1;
      return { stored, loggedIn: (await stolen.request('GET', '/me')).body.userId === 'leaver' };
    });
    expect(outcome).toEqual({
      'express+ours': { stored: false, loggedIn: false },
      'fastify+ours': { stored: false, loggedIn: false },
      // connect-redis's set is a plain SET: the late save writes the whole session back, so the
      // logout is undone and the old cookie is logged in again (the README's "recreates").
      'express+connect-redis': { stored: true, loggedIn: true },
      'fastify+connect-redis': { stored: true, loggedIn: true },
    });
  });

  it('finds the session of a login whose cookie the client uses as soon as the headers arrive', async () => {
    // express-session writes the response's headers (and Set-Cookie) while the store's save is
    // still running; a client that fires its next request at once races that save. @fastify/session
    // saves before it sends the headers, so its two sites are a control: they never race.
    const found = await onEverySite({ maxAgeMs: 600_000 }, async (site) => {
      let hits = 0;
      for (let i = 0; i < 30; i++) if (await loginThenPeek(site.base, `racer${i}`)) hits++;
      return hits;
    });
    expect([found['express+ours'], found['fastify+ours']]).toEqual([30, 30]);
    expect(found['express+ours']).toBeGreaterThanOrEqual(found['express+connect-redis']);
    expect(found['fastify+ours']).toBeGreaterThanOrEqual(found['fastify+connect-redis']);
  });
});
