import { randomUUID } from 'node:crypto';
import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import type { SessionData as ExpressSessionData } from 'express-session';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createExpressStore, type ExpressSessionStore } from '../src/express.ts';
import { createFastifyStore, type FastifySessionStore } from '../src/fastify.ts';
import { FreshIds } from '../src/ids.ts';
import { createSessionStore, type SessionStore } from '../src/index.ts';
import { Browser, keyOf } from './helpers.ts';
import { type RunningApp, startExpressApp } from './http-apps.ts';

// Which session ids the framework stores take: at most 256 printable ASCII characters, no spaces,
// holding a run of 32 or more URL-safe ones (src/ids.ts). Ids are hashed before they name a key,
// so characters such as ':' or '{' reach no key name on either topology.

const session = (userId: string) => ({ cookie: { originalMaxAge: null }, userId }) as ExpressSessionData;
const RUN = 'R'.repeat(32);

describe.each(topologies())('session ids on $name', ({ url }) => {
  let redis: RedisConnection;
  let sessions: SessionStore;
  let store: ExpressSessionStore;
  let fastifyStore: FastifySessionStore;
  const prefix = uniquePrefix('session-ids');

  beforeAll(async () => {
    redis = await connect({ url });
    sessions = createSessionStore({ redis, prefix });
    const userIdOf = (s: object) => (s as { userId?: string }).userId;
    store = createExpressStore(sessions, { userIdOf });
    fastifyStore = createFastifyStore(sessions, { userIdOf });
  });
  afterAll(async () => {
    await redis?.close();
  });

  async function withApp(genid: (() => string) | undefined, run: (app: RunningApp) => Promise<void>) {
    const app = await startExpressApp(store, { maxAgeMs: 600_000, ...(genid ? { genid } : {}) });
    try {
      await run(app);
    } finally {
      await app.close();
    }
  }

  it('logs in over HTTP with a custom genid of the form user:42:<uuid>', async () => {
    await withApp(
      () => `user:42:${randomUUID()}`,
      async ({ base }) => {
        const browser = new Browser(base);
        expect((await browser.request('POST', '/login/u42')).status).toBe(200);
        const sid = browser.sessionId('sid') ?? '';
        expect(sid).toMatch(/^user:42:[0-9a-f-]{36}$/);
        expect((await browser.request('GET', '/me')).body.userId).toBe('u42');
        expect(await redis.send(['EXISTS', keyOf(prefix, sid)], { key: keyOf(prefix, sid) })).toBe(1);
        expect((await sessions.listForUser('u42')).length).toBe(1);
      },
    );
  });

  it('keeps an id with braces in one session key (the id is hashed before it names a key)', async () => {
    const sid = `tenant:{7}:${randomUUID()}`;
    await store.set(sid, session('braces'));
    expect(await store.get(sid)).toMatchObject({ userId: 'braces' });
    expect(await redis.send(['EXISTS', keyOf(prefix, sid)], { key: keyOf(prefix, sid) })).toBe(1);
    await store.destroy(sid);
    expect(await store.get(sid)).toBeNull();
  });

  it("logs in over HTTP with express-session's own 32-character ids", async () => {
    await withApp(undefined, async ({ base }) => {
      const browser = new Browser(base);
      await browser.request('POST', '/login/plain');
      expect(browser.sessionId('sid')).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect((await browser.request('GET', '/me')).body.userId).toBe('plain');
    });
  });

  it("refuses to save under '123' (InvalidArgumentError) and reads it as no session", async () => {
    const saving = store.set('123', session('short'));
    await expect(saving).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(saving).rejects.toMatchObject({ message: expect.stringContaining('sid') });
    expect(await store.get('123')).toBeNull();
    await expect(fastifyStore.set('123', session('short'))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await fastifyStore.get('123')).toBeNull();
  });

  it('takes ids of up to 256 characters and refuses 257', async () => {
    const longest = `${RUN}${'.'.repeat(256 - RUN.length)}`;
    expect(longest).toHaveLength(256);
    await store.set(longest, session('long'));
    expect((await store.get(longest))?.userId).toBe('long');

    const tooLong = `${longest}.`;
    await expect(store.set(tooLong, session('long'))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await store.get(tooLong)).toBeNull();
  });

  it('refuses an id holding a space, or a control or non-ASCII character, around a valid run', async () => {
    for (const sid of [`user 42 ${RUN}`, `${RUN}\t`, `${RUN}\n`, `${RUN}é`]) {
      await expect(store.set(sid, session('odd')), JSON.stringify(sid)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      expect(await store.get(sid)).toBeNull();
    }
  });

  it('needs 32 URL-safe characters in a row: 31 and 31 split by a colon are refused, 32 taken', async () => {
    const split = `${'a'.repeat(31)}:${'b'.repeat(31)}`;
    await expect(store.set(split, session('split'))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await store.get(split)).toBeNull();

    const exact = `tenant:7:${'c'.repeat(32)}`;
    await store.set(exact, session('exact'));
    expect((await store.get(exact))?.userId).toBe('exact');
    const uuid = randomUUID();
    await store.set(uuid, session('uuid'));
    expect((await store.get(uuid))?.userId).toBe('uuid');
  });
});

describe('the ids an adapter generated and never stored (FreshIds)', () => {
  it('answers fresh once per id, and not for ids it did not make', () => {
    const fresh = new FreshIds();
    const id = fresh.generate();
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fresh.take('an id from somewhere else, 32 chars or more long')).toBe(false);
    expect(fresh.take(id)).toBe(true);
    expect(fresh.take(id)).toBe(false);
  });

  it('forgets an id after a minute, and the oldest beyond 10,000', () => {
    vi.useFakeTimers();
    try {
      const fresh = new FreshIds();
      const old = fresh.generate();
      vi.advanceTimersByTime(60_000);
      expect(fresh.take(old)).toBe(false);
      const first = fresh.generate();
      const second = fresh.generate();
      for (let i = 0; i < 9_999; i++) fresh.generate();
      // 10,001 generated since: the first went, the second stays.
      expect(fresh.take(first)).toBe(false);
      expect(fresh.take(second)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
