import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@redis-patterns/connection';
import { startRedis, type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import {
  exportedOnRegistration,
  type OtelHarness,
  pointValue,
  registerOtel,
} from '@redis-patterns/testing/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, createCacheInspector } from '../src/index.ts';
import { useCaches } from './helpers.ts';

describe('cache telemetry without an SDK', () => {
  const { make } = useCaches((topologies()[0] as Topology).url, 'ca-otel-none');

  it('records nothing and still serves reads when no provider is registered', async () => {
    const cache = make();
    expect(await cache.getOrLoad('k', async () => 'v')).toBe('v');
    expect(await cache.getOrLoad('k', async () => 'other')).toBe('v');
    expect(await exportedOnRegistration(['redis_patterns.cache.requests'])).toEqual({
      spans: [],
      points: [],
    });
  });
});

describe.each(topologies())('cache telemetry on $name', ({ url }) => {
  const fixture = useCaches(url, 'ca-otel');
  const { make } = fixture;
  let otel: OtelHarness;
  beforeAll(() => {
    otel = registerOtel();
  });
  afterAll(() => otel.shutdown());

  const requests = async (result: string) =>
    pointValue(await otel.points('redis_patterns.cache.requests'), { result });

  it('traces getOrLoad with the key and counts a miss, a load and then hits', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const [miss, hit] = [await requests('miss'), await requests('hit')];
      const cache = make();
      await cache.getOrLoad('user:1', async () => ({ id: 1 }));
      await cache.getOrLoad('user:1', async () => ({ id: 2 }));
      await cache.get('user:1');
      const spans = otel.spans('cache getOrLoad');
      expect(spans).toHaveLength(2);
      expect(spans[0]?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'getOrLoad',
        'redis_patterns.cache.key': 'user:1',
      });
      expect(otel.spans('cache get')[0]?.attributes['db.operation.name']).toBe('get');
      expect((await requests('miss')) - miss).toBe(1);
      expect((await requests('hit')) - hit).toBe(2);
      const loads = await otel.points('redis_patterns.cache.load.duration');
      expect(loads.find((p) => p.attributes['error.type'] === undefined)?.count).toBe(1);
    }));

  it('counts a stale value served while it is refreshed', () =>
    otel.traced(async () => {
      const cache = make({ ttlMs: 100, staleMs: 10_000 });
      const stale = await requests('stale');
      await cache.getOrLoad('s', async () => 1);
      await sleep(150);
      expect(await cache.getOrLoad('s', async () => 2)).toBe(1);
      expect((await requests('stale')) - stale).toBe(1);
      const served = await otel.points('redis_patterns.cache.stale.served');
      expect(pointValue(served, { reason: 'revalidate' })).toBeGreaterThanOrEqual(1);
    }));

  it('marks the span of a failing loader as an error and records the failed load', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const cache = make();
      await expect(
        cache.getOrLoad('broken', async () => {
          throw new TypeError('database down');
        }),
      ).rejects.toThrow('database down');
      const [span] = otel.spans('cache getOrLoad');
      expect(span?.status).toMatchObject({ code: 2, message: 'database down' });
      expect(span?.attributes['error.type']).toBe('TypeError');
      const loads = await otel.points('redis_patterns.cache.load.duration');
      expect(loads.find((p) => p.attributes['error.type'] === 'TypeError')?.count).toBe(1);
    }));

  it('traces wrap() through getOrLoad and batch operations with their key count', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const cache = make();
      const square = cache.wrap(async (n: number) => n * n, { key: (n) => `sq:${n}` });
      expect(await square(3)).toBe(9);
      await cache.getMany(['a', 'b', 'c']);
      expect(otel.spans('cache getOrLoad')[0]?.attributes['redis_patterns.cache.key']).toBe('sq:3');
      expect(otel.spans('cache getMany')[0]?.attributes['redis_patterns.cache.key_count']).toBe(3);
    }));

  it('traces the inspector’s calls, with the key where one is given', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const prefix = uniquePrefix('ca-otel-inspect');
      const cache = make({}, prefix);
      await cache.set('product:9', { price: 3 });
      const inspector = createCacheInspector({ redis: fixture.redis, prefix });
      expect((await inspector.get('product:9'))?.key).toBe('product:9');
      expect((await inspector.listKeys()).items).toContain('product:9');
      expect(otel.spans('cache inspect.get')[0]?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'inspect.get',
        'redis_patterns.cache.key': 'product:9',
      });
      expect(otel.spans('cache inspect.listKeys')).toHaveLength(1);
      await inspector.close();
    }));
});

describe('cache telemetry while Redis is paused', () => {
  it('counts the Redis failures a read absorbed by failing open, by operation', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 5_000 });
    const otel = registerOtel();
    const cache = createCache({ redis, prefix: uniquePrefix('ca-otel-paused'), commandTimeoutMs: 150 });
    try {
      const readErrors = async () =>
        pointValue(await otel.points('redis_patterns.cache.errors'), { operation: 'read' });
      await cache.getOrLoad('k', async () => 'v');
      expect(await readErrors()).toBe(0);
      await server.pause();
      try {
        const answer = await otel.traced(() => cache.getOrLoad('k', async () => 'from the loader'));
        expect(answer).toBe('from the loader');
      } finally {
        await server.resume();
      }
      expect(await readErrors()).toBe(1);
      expect(cache.stats().errors).toBeGreaterThanOrEqual(1);
      // The call itself succeeded: its span is not an error.
      expect(otel.spans('cache getOrLoad').at(-1)?.status.code).not.toBe(2);
    } finally {
      await cache.close();
      await redis.close();
      await otel.shutdown();
      await server.stop();
    }
  });
});
