import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll } from 'vitest';
import { type Cache, type CacheOptions, createCache } from '../src/index.ts';

/** A loader that counts its calls and returns `value` (or what it computes) after `delayMs`. */
export function counting<T>(value: T | (() => T), delayMs = 0) {
  const loader = Object.assign(
    async () => {
      loader.calls++;
      if (delayMs > 0) await sleep(delayMs);
      return typeof value === 'function' ? (value as () => T)() : value;
    },
    { calls: 0 },
  );
  return loader;
}

/**
 * A connection to `url` for the enclosing describe block, and `make()` for caches on it, each
 * under a fresh prefix unless one is given; all are closed after the block.
 */
export function useCaches(url: string, label: string) {
  const fixture = {
    redis: undefined as unknown as RedisConnection,
    /** Closed after the block: push caches made otherwise. */
    caches: [] as Cache[],
    make(options: Omit<CacheOptions, 'redis'> = {}, prefix = uniquePrefix(label)): Cache {
      const cache = createCache({ redis: fixture.redis, prefix, ...options });
      fixture.caches.push(cache);
      return cache;
    },
  };
  beforeAll(async () => {
    fixture.redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await Promise.all(fixture.caches.map((c) => c.close()));
    await fixture.redis?.close();
  });
  return fixture;
}
