import { ConnectionError, connect, TimeoutError } from '@redis-patterns/connection';
import { commandsRun, scriptsIn, startRedis } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createExpressStore } from '../src/express.ts';
import { createFastifyStore } from '../src/fastify.ts';
import { createSessionStore } from '../src/index.ts';
import { listen, shopApp } from './express-app.ts';
import { Browser } from './helpers.ts';
import { startExpressApp, startFastifyApp } from './http-apps.ts';

describe('session store against a failing or isolated redis-server', () => {
  it('fails with a typed error within the command timeout when Redis is down or hangs', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 400, reconnect: { maxDelayMs: 100 } });
    const sessions = createSessionStore({ redis, prefix: 'faults:' });
    try {
      const { id } = await sessions.create({ cart: [] });
      await server.pause();
      let started = performance.now();
      await expect(sessions.get(id)).rejects.toBeInstanceOf(TimeoutError);
      // The bound is 400 ms; 1.5 s of slack for a loaded machine.
      expect(performance.now() - started).toBeLessThan(1_900);
      await server.resume();
      expect((await sessions.get(id))?.data).toEqual({ cart: [] });

      await server.kill();
      started = performance.now();
      const error = await sessions.update(id, { cart: ['x'] }).catch((err: unknown) => err);
      expect([ConnectionError, TimeoutError].some((type) => error instanceof type)).toBe(true);
      expect(performance.now() - started).toBeLessThan(1_900);
    } finally {
      await server.resume().catch(() => {});
      await redis.close();
      await server.stop();
    }
  });

  it('passes Redis failures to next(err) in Express', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 400, reconnect: { maxDelayMs: 100 } });
    const sessions = createSessionStore({ redis, prefix: 'faults-express:' });
    const app = await listen(shopApp(sessions, createExpressStore(sessions)));
    try {
      const browser = new Browser(app.base);
      await browser.request('POST', '/cart/book');
      expect((await browser.request('GET', '/me')).body.cart).toEqual(['book']);
      await server.kill();
      const response = await browser.request('GET', '/me');
      expect(response.status).toBe(500);
      expect(['ERR_CONNECTION', 'ERR_TIMEOUT']).toContain(response.body.code);
    } finally {
      await app.close();
      await redis.close();
      await server.stop();
    }
  });

  it('costs one round trip per unchanged Express request, with no write within touchAfterMs', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url });
    const sessions = createSessionStore({ redis, prefix: 'count:', touchAfterMs: 60_000 });
    const app = await listen(shopApp(sessions, createExpressStore(sessions)));
    try {
      const browser = new Browser(app.base);
      await browser.request('POST', '/cart/book');
      const ran = await commandsRun(redis, async () => {
        for (let i = 0; i < 20; i++) await browser.request('GET', '/me');
      });
      // One plain HMGET per request: no script, no TIME, no write.
      expect(ran).toEqual({ hmget: 20 });
    } finally {
      await app.close();
      await redis.close();
      await server.stop();
    }
  });

  it('saves a changed session in one script from its read version, merging in Redis only after a concurrent change', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url });
    const sessions = createSessionStore({ redis, prefix: 'saves:' });
    const app = await listen(shopApp(sessions, createExpressStore(sessions)));
    try {
      const browser = new Browser(app.base);
      await browser.request('POST', '/cart/book');
      // Unchanged since the read: the whole data goes with the read's version, one compare-and-set.
      const alone = await commandsRun(redis, () => browser.request('POST', '/cart/pen'));
      expect(scriptsIn(alone)).toBe(1);
      expect(alone.hset).toBe(1);
      // The data, its version and the refresh time in that one HSET.
      expect(alone.hincrby).toBeUndefined();
      // Two requests read version N; the faster saves N+1, so the slower one's compare-and-set is
      // refused and its change alone is merged in Redis: three scripts, both properties kept.
      const racing = await commandsRun(redis, () =>
        Promise.all([
          browser.request('POST', '/slow/first/400'),
          browser.request('POST', '/slow/second/100'),
        ]),
      );
      expect(scriptsIn(racing)).toBe(3);
      expect(racing.hset).toBe(2);
      const me = await browser.request('POST', '/cart/mug');
      expect(me.body).toEqual({ cart: ['book', 'pen', 'mug'] });
      const [key] = await redis.send<string[]>(['KEYS', 'saves:*']);
      const data = JSON.parse(await redis.send<string>(['HGET', key as string, 'd'], { key: key as string }));
      expect(Object.keys(data).sort()).toEqual(['cart', 'cookie', 'first', 'second']);
    } finally {
      await app.close();
      await redis.close();
      await server.stop();
    }
  });

  it.each(['express', 'fastify'] as const)(
    "sends nothing to destroy a new visitor's id on login (%s): one create with its index entry",
    async (framework) => {
      const server = await startRedis({ forceBinary: true });
      const redis = await connect({ url: server.url });
      const sessions = createSessionStore({ redis, prefix: `login-${framework}:` });
      const userIdOf = (s: object) => (s as { userId?: string }).userId;
      const app =
        framework === 'express'
          ? await (() => {
              const store = createExpressStore(sessions, { userIdOf });
              return startExpressApp(store, { genid: store.genid });
            })()
          : await (() => {
              const store = createFastifyStore(sessions, { userIdOf });
              return startFastifyApp(store, { genid: store.idGenerator });
            })();
      try {
        const browser = new Browser(app.base);
        const ran = await commandsRun(redis, async () => {
          expect((await browser.request('POST', '/login/ada')).body).toEqual({ userId: 'ada' });
        });
        // No destroy script (it starts with HMGET) for the id that was never stored. Express saves
        // once: the session and its index entry in one script on one server. @fastify/session saves
        // the new session inside regenerate, then binds the userId at the end: an update (its HMGET)
        // and the index entry in one script, with no check of the entry after it.
        expect(ran.hmget ?? 0).toBe(framework === 'express' ? 0 : 1);
        expect(scriptsIn(ran)).toBe(framework === 'express' ? 1 : 2);
        expect(ran.zadd).toBe(1);
        expect(ran.zscore).toBeUndefined();
        if (framework === 'express') {
          // The create checks its key, then writes the entry first: no TYPE check of the index,
          // whose wrong type fails that ZADD before anything is written.
          expect(ran.type).toBeUndefined();
          expect((ran.exists ?? 0) + (ran.time ?? 0) + (ran.hset ?? 0) + (ran.pexpire ?? 0)).toBe(4);
        }
        expect((await browser.request('GET', '/me')).body).toEqual({ userId: 'ada' });
        expect(await sessions.listForUser('ada')).toHaveLength(1);
        // A logout in the same process still ends it.
        await browser.request('POST', '/logout');
        expect((await browser.request('GET', '/me')).body).toEqual({ userId: null });
        expect(await sessions.listForUser('ada')).toHaveLength(0);
      } finally {
        await app.close();
        await redis.close();
        await server.stop();
      }
    },
  );

  /** An Express store binding `userId` of the data, and a session of `data` saved under a new id. */
  const bindingStore = (sessions: ReturnType<typeof createSessionStore>) =>
    createExpressStore(sessions, { userIdOf: (s) => (s as { userId?: string }).userId });
  const cookie = () => ({ originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000) });
  /** Saves a session without a user, reads it (as a request would), then saves it bound to `userId`. */
  async function bindLater(store: ReturnType<typeof bindingStore>, userId: string): Promise<string> {
    const sid = store.genid();
    await store.set(sid, { cookie: cookie() } as never);
    const loaded = (await store.get(sid)) as Record<string, unknown>;
    await store.set(sid, { ...loaded, userId } as never);
    return sid;
  }

  it('writes no session when the user index key holds another type (one script on one server)', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url });
    const prefix = 'wrongtype:';
    const sessions = createSessionStore({ redis, prefix });
    const store = bindingStore(sessions);
    try {
      await redis.send(['SET', `${prefix}{user:bob}`, 'not an index']);
      const error = await sessions.create({ a: 1 }, { userId: 'bob' }).catch((err: unknown) => err);
      expect((error as Error).message).toMatch(/^WRONGTYPE/);
      expect(await redis.send<number>(['DBSIZE'])).toBe(1);
      // Binding a saved session to bob fails the same way, and leaves it as it was: not bob's.
      await expect(bindLater(store, 'bob')).rejects.toThrow(/^WRONGTYPE/);
      const keys = (await redis.send<string[]>(['KEYS', `${prefix}*`])).filter((k) => !k.includes('user:'));
      expect(keys).toHaveLength(1);
      expect(await redis.send(['HGET', keys[0] as string, 'u'], { key: keys[0] as string })).toBeNull();
    } finally {
      await redis.close();
      await server.stop();
    }
  });

  it('falls back to two commands behind one endpoint that refuses keys of two slots in a script', async () => {
    // A one-node cluster reached as a plain server: what a sharding proxy behind one endpoint does.
    const server = await startRedis({
      forceBinary: true,
      args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
    });
    const redis = await connect({ url: server.url });
    try {
      await redis.send(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
      for (let i = 0; i < 100; i++) {
        if (/cluster_state:ok/.test(await redis.send<string>(['CLUSTER', 'INFO']))) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // A binding first, then a create, each on a store that has not fallen back yet.
      const first = createSessionStore({ redis, prefix: 'proxy:' });
      const bound = await bindLater(bindingStore(first), 'ada');
      const second = createSessionStore({ redis, prefix: 'proxy:' });
      const created = await second.create({ n: 1 }, { userId: 'ada' });
      expect(await second.listForUser('ada')).toHaveLength(2);
      expect(await second.destroyAllForUser('ada')).toBe(2);
      expect(await bindingStore(second).get(bound)).toBeNull();
      expect(await second.get(created.id)).toBeNull();
    } finally {
      await redis.close();
      await server.stop();
    }
  });
});
