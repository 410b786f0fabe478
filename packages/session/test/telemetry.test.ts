import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import {
  exportedOnRegistration,
  type OtelHarness,
  pointValue,
  registerOtel,
} from '@redis-patterns/testing/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionInspector, createSessionStore, handleOf } from '../src/index.ts';

describe('session telemetry without an SDK', () => {
  it('records nothing and still reads sessions when no provider is registered', async () => {
    const redis = await connect({ url: (topologies()[0] as Topology).url });
    try {
      const sessions = createSessionStore({ redis, prefix: uniquePrefix('sess-otel-none') });
      const { id } = await sessions.create({ cart: [] });
      expect((await sessions.get(id))?.data).toEqual({ cart: [] });
      expect(await exportedOnRegistration(['redis_patterns.session.reads'])).toEqual({
        spans: [],
        points: [],
      });
    } finally {
      await redis.close();
    }
  });
});

describe.each(topologies())('session telemetry on $name', ({ url }) => {
  let redis: RedisConnection;
  let otel: OtelHarness;
  const prefix = uniquePrefix('sess-otel');
  beforeAll(async () => {
    otel = registerOtel();
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis.close();
    await otel.shutdown();
  });
  const readsOf = async (found: boolean, refreshed: boolean) =>
    pointValue(await otel.points('redis_patterns.session.reads'), { found, refreshed });

  it('traces get and counts reads that refresh, skip the refresh, or find nothing', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const sessions = createSessionStore({ redis, prefix, touchAfterMs: 0 });
      const lazy = createSessionStore({ redis, prefix, touchAfterMs: 60_000 });
      const before = [await readsOf(true, true), await readsOf(true, false), await readsOf(false, false)];
      const { id } = await sessions.create({ n: 1 });
      await sessions.get(id);
      await lazy.get(id);
      await sessions.destroy(id);
      expect(await sessions.get(id)).toBeNull();
      const after = [await readsOf(true, true), await readsOf(true, false), await readsOf(false, false)];
      expect(after.map((v, i) => v - (before[i] as number))).toEqual([1, 1, 1]);
      const gets = otel.spans('session get');
      expect(gets).toHaveLength(3);
      expect(gets[0]?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'get',
        'redis_patterns.session.found': true,
      });
      expect(gets[2]?.attributes['redis_patterns.session.found']).toBe(false);
      expect(otel.spans().map((s) => s.name)).toContain('session create');
      // The id is a bearer secret: no attribute of any span may carry it.
      for (const span of otel.spans()) expect(Object.values(span.attributes)).not.toContain(id);
    }));

  it('traces regenerate and marks a rejected call as an error', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const sessions = createSessionStore({ redis, prefix });
      const { id } = await sessions.create({}, { userId: 'u1' });
      await sessions.regenerate(id);
      await expect(sessions.destroy('not-an-id')).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(otel.spans('session regenerate')).toHaveLength(1);
      const [destroy] = otel.spans('session destroy');
      expect(destroy?.status.code).toBe(2);
      expect(destroy?.attributes['error.type']).toBe('ERR_INVALID_ARGUMENT');
    }));

  it('traces the inspector’s calls without their handles or user ids', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const sessions = createSessionStore({ redis, prefix });
      const inspector = createSessionInspector({ redis, prefix });
      const { id } = await sessions.create({ n: 1 }, { userId: 'user-42' });
      const handle = handleOf(id);
      expect((await inspector.get(handle))?.userId).toBe('user-42');
      expect((await inspector.listForUser('user-42')).items).toHaveLength(1);
      expect(await inspector.revoke(handle)).toBe(true);
      const names = otel.spans().map((s) => s.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'session inspect.get',
          'session inspect.listForUser',
          'session inspect.revoke',
        ]),
      );
      expect(otel.spans('session inspect.get')[0]?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'inspect.get',
      });
      for (const span of otel.spans()) {
        for (const value of Object.values(span.attributes))
          expect([id, handle, 'user-42']).not.toContain(value);
      }
      await inspector.close();
    }));
});
