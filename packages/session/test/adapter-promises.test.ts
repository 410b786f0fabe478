import { ClosedError, connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import type { SessionData as ExpressSessionData } from 'express-session';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { createExpressStore, type ExpressSessionStore } from '../src/express.ts';
import { createFastifyStore, type FastifySessionStore } from '../src/fastify.ts';
import {
  createSessionStore,
  generateId,
  handleOf,
  type SessionData,
  type SessionStore,
} from '../src/index.ts';
import { keyOf, pttl, sleep } from './helpers.ts';

// What express-session hands a store: its cookie and the app's properties.
const expressSession = (cart: string[]) =>
  ({ cookie: { originalMaxAge: null }, cart }) as never as ExpressSessionData;

describe.each(topologies())('adapter stores called without a callback on $name', ({ url }) => {
  let redis: RedisConnection;
  let closed: SessionStore;
  let expressClosed: ExpressSessionStore;
  let fastifyClosed: FastifySessionStore;

  // Each test its own prefix: length, all and clear see every session under it.
  const open = (name: string) => {
    const prefix = uniquePrefix(`session-promises-${name}`);
    // touchAfterMs 0: every touch writes, so a test can see that it did.
    const sessions = createSessionStore({ redis, prefix, touchAfterMs: 0 });
    return { prefix, express: createExpressStore(sessions), fastify: createFastifyStore(sessions) };
  };

  beforeAll(async () => {
    redis = await connect({ url });
    closed = createSessionStore({ redis, prefix: uniquePrefix('session-promises-closed') });
    expressClosed = createExpressStore(closed);
    fastifyClosed = createFastifyStore(closed);
    await closed.close();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it.each(['express', 'fastify'] as const)(
    '%s: keeps a concurrent change when a request saves again after a save that wrote nothing or merged',
    async (framework) => {
      const store = open(`twice-${framework}`)[framework] as unknown as {
        set(sid: string, session: object): Promise<void>;
        get(sid: string): Promise<Record<string, unknown>>;
      };
      const sid = generateId();
      await store.set(sid, { cookie: { originalMaxAge: null }, base: 1 });
      // Two requests read the same version; the other one saves first.
      const mine = await store.get(sid);
      const other = await store.get(sid);
      other.first = true;
      await store.set(sid, other);
      // A save of mine that changes nothing writes nothing, and its next save still knows its read.
      await store.set(sid, mine);
      // Mine no longer matches: its change is merged in Redis. Its next save must merge too.
      mine.second = true;
      await store.set(sid, mine);
      mine.third = true;
      await store.set(sid, mine);
      expect(await store.get(sid)).toMatchObject({ base: 1, first: true, second: true, third: true });
    },
  );

  it('express: set, touch, get, a second set, and destroy answer through promises', async () => {
    const { prefix, express } = open('express');
    const sid = express.genid();
    const key = keyOf(prefix, sid);
    expectTypeOf(express.get(sid)).toEqualTypeOf<Promise<ExpressSessionData | null>>();
    expectTypeOf(express.set(sid, expressSession([]))).toEqualTypeOf<Promise<void>>();

    await expect(express.set(sid, expressSession(['book']))).resolves.toBeUndefined();
    await redis.send(['PEXPIRE', key, '5000'], { key });
    await expect(express.touch(sid, expressSession(['book']))).resolves.toBeUndefined();
    expect(await pttl(redis, key)).toBeGreaterThan(60_000); // slid back to the 30-min idle TTL

    const read = await express.get(sid);
    expect(read).toMatchObject({ cart: ['book'] });
    if (read === null) throw new Error('unreachable');
    read.cart = ['book', 'pen'];
    await express.set(sid, read);
    expect(await express.get(sid)).toMatchObject({ cart: ['book', 'pen'] });

    await expect(express.destroy(sid)).resolves.toBeUndefined();
    expect(await express.get(sid)).toBeNull();
  });

  it('express: all, length, ids and clear answer through promises', async () => {
    const { express } = open('express-bulk');
    const sids = [express.genid(), express.genid(), express.genid()];
    await Promise.all(sids.map((sid, i) => express.set(sid, expressSession([`item${i}`]))));
    expectTypeOf(express.length()).toEqualTypeOf<Promise<number>>();

    expect(await express.length()).toBe(3);
    expect((await express.ids()).sort()).toEqual(sids.map(handleOf).sort());
    const all = await express.all();
    expect(all.map((session) => session.handle).sort()).toEqual(sids.map(handleOf).sort());
    expect(all.find((session) => session.handle === handleOf(sids[1] ?? ''))).toMatchObject({
      cart: ['item1'],
    });

    await expect(express.clear()).resolves.toBeUndefined();
    expect(await express.length()).toBe(0);
    expect(await express.all()).toEqual([]);
  });

  it('fastify: set, get, a second set, and destroy answer through promises', async () => {
    const { fastify } = open('fastify');
    const sid = fastify.idGenerator();
    expectTypeOf(fastify.get(sid)).toEqualTypeOf<Promise<SessionData | null>>();

    await expect(fastify.set(sid, { cookie: {}, cart: ['book'] })).resolves.toBeUndefined();
    const read = await fastify.get(sid);
    expect(read).toMatchObject({ cart: ['book'] });
    await fastify.set(sid, { ...read, cart: ['book', 'pen'] });
    expect(await fastify.get(sid)).toMatchObject({ cart: ['book', 'pen'] });

    await expect(fastify.destroy(sid)).resolves.toBeUndefined();
    expect(await fastify.get(sid)).toBeNull();
  });

  it('rejects with the typed error: an id the store refuses, or a closed store', async () => {
    const { express, fastify } = open('errors');
    await expect(express.set('not an id', expressSession([]))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(fastify.set('not an id', { cookie: {} })).rejects.toBeInstanceOf(InvalidArgumentError);

    const sid = express.genid();
    await expect(expressClosed.get(sid)).rejects.toBeInstanceOf(ClosedError);
    await expect(expressClosed.set(sid, expressSession([]))).rejects.toBeInstanceOf(ClosedError);
    await expect(expressClosed.touch(sid, expressSession([]))).rejects.toBeInstanceOf(ClosedError);
    await expect(expressClosed.destroy(sid)).rejects.toBeInstanceOf(ClosedError);
    // These fail before their first await: still a rejection, not a throw.
    await expect(expressClosed.all()).rejects.toBeInstanceOf(ClosedError);
    await expect(expressClosed.length()).rejects.toBeInstanceOf(ClosedError);
    await expect(expressClosed.ids()).rejects.toBeInstanceOf(ClosedError);
    await expect(expressClosed.clear()).rejects.toBeInstanceOf(ClosedError);
    await expect(fastifyClosed.get(sid)).rejects.toBeInstanceOf(ClosedError);
    await expect(fastifyClosed.set(sid, { cookie: {} })).rejects.toBeInstanceOf(ClosedError);
    await expect(fastifyClosed.destroy(sid)).rejects.toBeInstanceOf(ClosedError);
  });

  it("raises no unhandled rejection for a failure nobody awaits (express-session's destroy without a callback)", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // What `req.session.destroy()` does: it passes its missing callback on and drops the result.
      (expressClosed.destroy as (sid: string, callback: undefined) => unknown)(
        expressClosed.genid(),
        undefined,
      );
      await sleep(50);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('still calls a callback once, on a later tick, and returns undefined', async () => {
    const { express, fastify } = open('callbacks');
    const sid = express.genid();
    const saved = vi.fn();
    expect(express.set(sid, expressSession(['book']), saved)).toBeUndefined();
    expect(saved).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(saved).toHaveBeenCalled());

    const calls = {
      get: vi.fn(),
      fastifyGet: vi.fn(),
      length: vi.fn(),
      failed: vi.fn(),
      failedLength: vi.fn(),
    };
    expect(express.get(sid, calls.get)).toBeUndefined();
    expect(fastify.get(sid, calls.fastifyGet)).toBeUndefined();
    expect(express.length(calls.length)).toBeUndefined();
    expect(expressClosed.get(sid, calls.failed)).toBeUndefined();
    // A closed store refuses at once: through the callback too, never as a throw.
    expect(expressClosed.length(calls.failedLength)).toBeUndefined();
    await vi.waitFor(() => {
      for (const call of Object.values(calls)) expect(call).toHaveBeenCalled();
    });
    await sleep(50);
    for (const call of [saved, ...Object.values(calls)]) expect(call).toHaveBeenCalledOnce();
    expect(saved).toHaveBeenCalledWith(null, undefined);
    expect(calls.get).toHaveBeenCalledWith(null, expect.objectContaining({ cart: ['book'] }));
    expect(calls.fastifyGet).toHaveBeenCalledWith(null, expect.objectContaining({ cart: ['book'] }));
    expect(calls.length).toHaveBeenCalledWith(null, 1);
    expect(calls.failed.mock.calls[0]?.[0]).toBeInstanceOf(ClosedError);
    expect(calls.failedLength.mock.calls[0]?.[0]).toBeInstanceOf(ClosedError);
  });
});
