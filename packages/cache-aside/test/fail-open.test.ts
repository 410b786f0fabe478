import { setTimeout as sleep } from 'node:timers/promises';
import { connect, RedisPatternsError } from '@redis-patterns/connection';
import { startRedis, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createCache } from '../src/index.ts';

const TIMEOUT_MS = 200;
const LOADER_MS = 20;
// Slack on top of commandTimeoutMs + loader time for a loaded 2-core machine; a read stuck on a dead or
// paused Redis would take the connection's 5 s command timeout instead and fail this bound.
const SLACK_MS = 600;

describe('fail-open when Redis dies or stalls (a server this test owns)', () => {
  it('answers every read from the loader within commandTimeoutMs + loader time, then hits again once Redis is back', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, reconnect: { baseDelayMs: 20, maxDelayMs: 200 } });
    const cache = createCache({ redis, prefix: uniquePrefix('failopen'), commandTimeoutMs: TIMEOUT_MS });
    try {
      const loader = async () => {
        await sleep(LOADER_MS);
        return { answer: 42 };
      };
      await cache.getOrLoad('k', loader);
      const slowest = { kill: 0, pause: 0 };
      for (let i = 0; i < 30; i++) {
        if (i === 5) await server.kill();
        const started = performance.now();
        expect(await cache.getOrLoad('k', loader)).toEqual({ answer: 42 });
        slowest.kill = Math.max(slowest.kill, performance.now() - started);
      }
      expect(slowest.kill).toBeLessThan(TIMEOUT_MS + LOADER_MS + SLACK_MS);
      expect(cache.stats().errors).toBeGreaterThanOrEqual(25);
      // Explicit reads and writes report the outage as typed errors instead.
      await expect(cache.get('k', { commandTimeoutMs: TIMEOUT_MS })).rejects.toBeInstanceOf(
        RedisPatternsError,
      );
      await expect(cache.set('k', 1, { commandTimeoutMs: TIMEOUT_MS })).rejects.toBeInstanceOf(
        RedisPatternsError,
      );

      await server.restart();
      // Reads while the client is still reconnecting are answered by the loader (fail-open, not
      // counted below); count from the moment the connection is back.
      for (let i = 0; i < 200 && !redis.isReady; i++) await sleep(10);
      const loadsBefore = cache.stats().loads;
      let hitsResumed = false;
      for (let i = 0; i < 100 && !hitsResumed; i++) {
        const hits = cache.stats().hits;
        await cache.getOrLoad('k', loader);
        hitsResumed = cache.stats().hits > hits;
        if (!hitsResumed) await sleep(50);
      }
      expect(hitsResumed).toBe(true);
      // One reload after the restart (the server lost its data), then hits only.
      expect(cache.stats().loads - loadsBefore).toBeLessThanOrEqual(2);

      await server.pause();
      try {
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          expect(await cache.getOrLoad('k', loader)).toEqual({ answer: 42 });
          slowest.pause = Math.max(slowest.pause, performance.now() - started);
        }
      } finally {
        await server.resume();
      }
      expect(slowest.pause).toBeLessThan(TIMEOUT_MS + LOADER_MS + SLACK_MS);
      console.log(
        `fail-open: slowest read with Redis killed ${slowest.kill.toFixed(0)} ms, paused ${slowest.pause.toFixed(0)} ms`,
      );
    } finally {
      await cache.close();
      await redis.close();
      await server.stop();
    }
  });

  it('stops waiting for the load of another process at leaseWaitMs from the call, even while Redis is paused', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url });
    const prefix = uniquePrefix('leasewait');
    const leader = createCache({ redis, prefix });
    const follower = createCache({ redis, prefix, leaseWaitMs: 400, commandTimeoutMs: 1_000 });
    try {
      let release = () => {};
      const leading = leader.getOrLoad(
        'slow',
        () => new Promise<number>((resolve) => (release = () => resolve(1))),
      );
      await sleep(50); // the leader holds the lease and loads
      const started = performance.now();
      let loadedAt = 0;
      const following = follower.getOrLoad('slow', async () => {
        loadedAt = performance.now() - started;
        return 2;
      });
      await sleep(150); // polling by now
      await server.pause();
      expect(await following).toBe(2);
      await server.resume();
      // The wait ends at leaseWaitMs from the call (one sweep tick of a 1 s bound is 64 ms).
      expect(loadedAt).toBeGreaterThanOrEqual(395);
      expect(loadedAt).toBeLessThan(400 + 150);
      release();
      await leading;
    } finally {
      await server.resume().catch(() => {});
      await Promise.all([leader.close(), follower.close()]);
      await redis.close();
      await server.stop();
    }
  });

  it('does not starve the reconnect of a caller reading in a loop while Redis is down', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, reconnect: { baseDelayMs: 20, maxDelayMs: 100 } });
    const cache = createCache({ redis, prefix: uniquePrefix('starve') });
    try {
      await server.kill();
      for (let i = 0; i < 200 && redis.isReady; i++) await sleep(10);
      const restarted = server.restart();
      // The loader answers at once: without I/O each read could resolve on microtasks alone.
      let reads = 0;
      const until = performance.now() + 10_000;
      while (!redis.isReady && performance.now() < until) {
        await cache.getOrLoad('k', async () => 1);
        reads++;
      }
      await restarted;
      expect(redis.isReady).toBe(true);
      expect(reads).toBeGreaterThan(0);
    } finally {
      await cache.close();
      await redis.close();
      await server.stop();
    }
  });
});
