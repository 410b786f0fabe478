import { setTimeout as sleep, setImmediate as yieldToIo } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  connect,
  type RedisClient,
  type RedisCluster,
  type RedisConnection,
} from '@redis-patterns/connection';
import { startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../src/index.ts';

const now = () => performance.timeOrigin + performance.now();
const writer = fileURLToPath(new URL('./fixtures/writer-child.mjs', import.meta.url));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(10);
  }
  return condition();
}

/** Clients of every master (the one server on standalone). */
async function masters(redis: RedisConnection): Promise<RedisClient[]> {
  const raw = redis.client as unknown as Partial<RedisCluster>;
  if (raw.masters === undefined) return [redis.client];
  const cluster = redis.client as unknown as RedisCluster;
  return Promise.all(cluster.masters.map((m) => cluster.nodeClient(m) as Promise<RedisClient>));
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

describe.each(topologies())('near cache on $name', ({ name, url }) => {
  let redis: RedisConnection;
  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  async function nearCache(prefix: string): Promise<Cache> {
    const cache = createCache({ redis, prefix, nearCache: { maxEntries: 100 } });
    expect(await until(() => cache.stats().near?.live === true, 5_000)).toBe(true);
    return cache;
  }

  /** Reads until the value is served from process memory (the first reads may race their own write). */
  async function warmNear(cache: Cache, key: string): Promise<void> {
    expect(
      await until(async () => {
        const before = cache.stats().nearHits;
        await cache.get(key);
        return cache.stats().nearHits > before;
      }, 2_000),
    ).toBe(true);
  }

  it('serves hits from process memory with no Redis command', async () => {
    const cache = await nearCache(uniquePrefix('near'));
    try {
      await cache.set('k', { n: 1 });
      await warmNear(cache, 'k');
      const before = cache.stats();
      for (let i = 0; i < 100; i++) expect(await cache.getOrLoad('k', () => ({ n: 2 }))).toEqual({ n: 1 });
      expect(cache.stats().nearHits - before.nearHits).toBe(100);
      expect(cache.stats().near?.entries).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('drops its copy when another process writes the key, and records how fast', async () => {
    const prefix = uniquePrefix('near');
    const cache = await nearCache(prefix);
    const child = startChild(writer, [url, prefix], { stderr: 'inherit' });
    const next = () => child.next();
    try {
      expect(await next()).toBe('ready');
      const fromStart: number[] = [];
      const fromAck: number[] = [];
      for (let round = 0; round < 20; round++) {
        await cache.set('shared', `v${round}`);
        await warmNear(cache, 'shared');
        child.send(`shared w${round}`);
        // Poll process memory, yielding to I/O so the invalidation can arrive, until B's value shows.
        let seen: number | undefined;
        for (let polls = 0; seen === undefined && polls < 200_000; polls++) {
          if ((await cache.get('shared')) === `w${round}`) seen = now();
          else await yieldToIo();
        }
        const [started, acked] = (await next()).split(' ').map(Number) as [number, number];
        expect(seen).toBeDefined();
        fromStart.push((seen as number) - started);
        fromAck.push((seen as number) - acked);
      }
      fromStart.sort((a, b) => a - b);
      fromAck.sort((a, b) => a - b);
      // Record, not assert tightly: the window depends on the machine. Generous bound for a loaded box.
      console.log(
        `near cache staleness on ${name} (write in process B -> new value read in process A), 20 rounds: ` +
          `from B's write start p50 ${percentile(fromStart, 0.5).toFixed(2)} ms, max ${percentile(fromStart, 1).toFixed(2)} ms; ` +
          `from B's write ack p50 ${percentile(fromAck, 0.5).toFixed(2)} ms, max ${percentile(fromAck, 1).toFixed(2)} ms`,
      );
      expect(percentile(fromStart, 1)).toBeLessThan(1_000);
    } finally {
      child.process.stdin?.end();
      child.process.kill();
      await cache.close();
    }
  });

  it('drops its copy on invalidateTag, delete and expiry in another client', async () => {
    const prefix = uniquePrefix('near');
    const cache = await nearCache(prefix);
    const other = createCache({ redis, prefix });
    try {
      await cache.set('tagged', 'v1', { tags: ['t'] });
      await warmNear(cache, 'tagged');
      await other.invalidateTag('t');
      expect(await until(async () => (await cache.get('tagged')) === undefined, 2_000)).toBe(true);

      await cache.set('gone', 'v1');
      await warmNear(cache, 'gone');
      await other.delete('gone');
      expect(await until(async () => (await cache.get('gone')) === undefined, 2_000)).toBe(true);

      await cache.set('short', 'v1', { ttlMs: 300 });
      await warmNear(cache, 'short');
      await sleep(400);
      expect(await cache.get('short')).toBeUndefined();
    } finally {
      await other.close();
      await cache.close();
    }
  });

  it('flushes and stops serving when a tracking connection drops, then resumes', async () => {
    const prefix = uniquePrefix('near');
    const cache = await nearCache(prefix);
    try {
      await cache.set('k', 'before');
      await warmNear(cache, 'k');
      const trackingName = `cache-aside-tracking:${prefix}v:`.replace(/[^\w:.-]/g, '_');
      for (const node of await masters(redis)) {
        const list = String(await redis.bounded(node.sendCommand(['CLIENT', 'LIST'])));
        for (const line of list.split('\n').filter((l) => l.includes(`name=${trackingName}`))) {
          const id = /\bid=(\d+)/.exec(line)?.[1] as string;
          await redis.bounded(node.sendCommand(['CLIENT', 'KILL', 'ID', id]));
        }
      }
      // Written right after the kill: no invalidation for it can reach the cache's old connection.
      const writerCache = createCache({ redis, prefix });
      await writerCache.set('k', 'after');
      await writerCache.close();
      // Let the cache notice the drop (a loopback close is seen at once) and re-subscribe.
      await sleep(300);
      expect(await until(() => cache.stats().near?.live === true, 5_000)).toBe(true);
      // Without the flush on drop, process memory would still say "before" here.
      expect(await cache.get('k')).toBe('after');
      await warmNear(cache, 'k');
      expect(await cache.get('k')).toBe('after');
    } finally {
      await cache.close();
    }
  });
});
