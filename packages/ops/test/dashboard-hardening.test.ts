import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createQueue } from '@redis-patterns/queue';
import { type RedisServer, startRedis, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverQueues } from '../src/commands/queue.ts';
import { QueueSampler } from '../src/dashboard/sampler.ts';
import { createDashboard, LOOPBACK_HOSTS } from '../src/index.ts';
import { login, raw, serve } from './dashboard-helpers.ts';

const json = { 'content-type': 'application/json' };
const TOKEN = 'a-long-enough-token';
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('the dashboard hardened', { timeout: 20_000 }, () => {
  const [standalone] = topologies();
  const redisUrl = (standalone as { url: string }).url;
  const prefix = uniquePrefix('dash-hard');
  let redis: RedisConnection;

  beforeAll(async () => {
    redis = await connect({ url: redisUrl });
    for (const name of ['one', 'two', 'three']) await createQueue({ redis, name, prefix }).add({ n: 1 });
  });
  afterAll(async () => {
    for (const name of ['one', 'two', 'three']) await createQueue({ redis, name, prefix }).purge();
    await redis?.close();
  });

  /** A dashboard of its own (throttling and cookies are per instance), served on a free port. */
  async function own(options: Partial<Parameters<typeof createDashboard>[0]> = {}) {
    const dashboard = createDashboard({
      redis,
      prefixes: { queue: prefix },
      token: TOKEN,
      allowedHosts: LOOPBACK_HOSTS,
      sampleEveryMs: 100,
      ...options,
    });
    const http = await serve(dashboard.handler);
    return {
      dashboard,
      url: http.url,
      close: async () => {
        await http.close();
        await dashboard.close();
      },
    };
  }

  it('answers 404 outside basePath and 400 to dot segments, encoded or not, without serving the API', async () => {
    const d = await own({ basePath: '/ops' });
    try {
      expect((await raw(`${d.url}/ops/api/queues`, { headers: bearer })).status).toBe(200);
      for (const path of ['/%6fps/api/queues', '/elsewhere/api/queues', '/api/queues', '/opsx/api/queues']) {
        expect([path, (await raw(d.url, { path, headers: bearer })).status]).toEqual([path, 404]);
      }
      for (const path of [
        '/%6fps/../api/queues',
        '/ops/x/../api/queues',
        '/ops/x/%2e%2e/api/queues',
        '/ops/x/%2E./api/queues',
        '/ops/./api/queues',
        '/ops/x\\..\\api/queues',
      ]) {
        expect([path, (await raw(d.url, { path, headers: bearer })).status]).toEqual([path, 400]);
      }
    } finally {
      await d.close();
    }
  });

  it('checks the Host before parsing, and answers 400 (not 500) to a path like //', async () => {
    const d = await own();
    try {
      const rebound = await raw(d.url, { path: '//', headers: { host: 'rebound.example' } });
      expect(rebound.status).toBe(421);
      for (const path of ['//', '//x/api/queues', '*']) {
        const odd = await raw(d.url, { path, headers: bearer });
        expect([path, odd.status < 500, odd.body]).toEqual([
          path,
          true,
          expect.not.stringContaining('Invalid URL'),
        ]);
      }
    } finally {
      await d.close();
    }
  });

  it('answers 503 after close() and never opens a connection again', async () => {
    const d = await own({ redis: redisUrl });
    const clients = async () =>
      Number(/connected_clients:(\d+)/.exec(await redis.send<string>(['INFO', 'clients']))?.[1]);
    try {
      expect((await raw(`${d.url}/api/queues`, { headers: bearer })).status).toBe(200);
      await d.dashboard.close();
      const before = await clients();
      const after = await raw(`${d.url}/api/queues`, { headers: bearer });
      expect(after.status).toBe(503);
      expect((await raw(`${d.url}/`, {})).status).toBe(503);
      expect(await clients()).toBe(before);
    } finally {
      await d.close();
    }
  });

  it('locks the token out with 429 after 10 wrong guesses from one address, even for the right token', async () => {
    const d = await own();
    try {
      for (let i = 0; i < 10; i++) {
        const wrong = await raw(`${d.url}/login`, {
          method: 'POST',
          headers: json,
          body: '{"token":"guess-guess"}',
        });
        expect(wrong.status).toBe(401);
      }
      const locked = await raw(`${d.url}/login`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ token: TOKEN }),
      });
      expect(locked.status).toBe(429);
      expect((await raw(`${d.url}/api/queues`, { headers: bearer })).status).toBe(429);
    } finally {
      await d.close();
    }
  });

  it('names its cookie per instance, so two dashboards on one host keep their own logins', async () => {
    const a = await own();
    const b = await own();
    try {
      const ca = await login(a.url, TOKEN);
      const cb = await login(b.url, TOKEN);
      expect(ca.cookie.split('=')[0]).not.toBe(cb.cookie.split('=')[0]);
      // A browser sends both cookies to both ports: each dashboard must find its own.
      const both = `${ca.cookie}; ${cb.cookie}`;
      expect((await raw(`${a.url}/api/queues`, { headers: { cookie: both } })).status).toBe(200);
      expect((await raw(`${b.url}/api/queues`, { headers: { cookie: both } })).status).toBe(200);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('takes only application/json bodies, by media type', async () => {
    const d = await own({ allowWrites: true });
    try {
      const { cookie, csrf } = await login(d.url, TOKEN);
      const pause = (type: string) =>
        raw(`${d.url}/api/queue/pause`, {
          method: 'POST',
          headers: { 'content-type': type, cookie, 'x-csrf-token': csrf },
          body: '{"name":"one"}',
        });
      expect((await pause('application/jsonx')).status).toBe(415);
      expect((await pause('Application/JSON; charset=utf-8')).status).toBe(200);
      await createQueue({ redis, name: 'one', prefix }).resume();
    } finally {
      await d.close();
    }
  });

  it('refuses a prefix with a brace before anything starts', () => {
    expect(() => createDashboard({ redis, prefixes: { queue: 'a{b' } })).toThrow(/prefixes\.queue/);
  });

  it('says when the queue list is cut at maxSampledQueues', async () => {
    const d = await own({ maxSampledQueues: 2 });
    try {
      const list = JSON.parse((await raw(`${d.url}/api/queues`, { headers: bearer })).body);
      expect(list.queues).toHaveLength(2);
      expect(list.complete).toBe(false);
      expect(list.found).toBe(3);
    } finally {
      await d.close();
    }
    const all = await own();
    try {
      const list = JSON.parse((await raw(`${all.url}/api/queues`, { headers: bearer })).body);
      expect([list.queues.length, list.complete]).toEqual([3, true]);
    } finally {
      await all.close();
    }
  });

  it('rediscovers for an unknown queue name at most once per discovery period', async () => {
    let discoveries = 0;
    const sampler = new QueueSampler(
      {
        discover: async () => {
          discoveries++;
          return discoverQueues(redis, prefix);
        },
        counts: (name) => createQueue({ redis, name, prefix }).counts(),
      },
      30,
      10_000,
      50,
    );
    sampler.start();
    try {
      await expect.poll(() => discoveries).toBe(1);
      for (let i = 0; i < 8; i++) {
        sampler.history('no-such-queue', { discover: true });
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // One discovery at start, one for the unknown name; the periodic one comes every 10 ticks.
      expect(discoveries).toBeLessThanOrEqual(3);
    } finally {
      await sampler.stop();
    }
  });
});

describe('the dashboard over a Redis that is down at first', { timeout: 20_000 }, () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ forceBinary: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('retries connecting on the next request once Redis is up', async () => {
    await server.kill();
    const dashboard = createDashboard({
      redis: server.url,
      token: TOKEN,
      timeoutMs: 500,
      sampleEveryMs: 60_000,
    });
    const http = await serve(dashboard.handler);
    try {
      expect((await raw(`${http.url}/api/queues`, { headers: bearer })).status).toBe(502);
      await server.restart();
      await expect
        .poll(async () => (await raw(`${http.url}/api/queues`, { headers: bearer })).status, {
          timeout: 8000,
        })
        .toBe(200);
    } finally {
      await http.close();
      await dashboard.close();
    }
  });
});
