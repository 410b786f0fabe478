import { EventEmitter } from 'node:events';

/** Counters since the cache was created (this process only). */
export interface CacheStats {
  /** Reads answered from the cache (Redis or near cache), including stale values served. */
  hits: number;
  /** Of `hits`, those answered by the near cache without a round trip. */
  nearHits: number;
  /** Reads that found no usable entry. */
  misses: number;
  /** hits / (hits + misses), 0 before the first read. */
  hitRate: number;
  /** Loader calls made by this process. */
  loads: number;
  /** Stale values served (while revalidating, or because the loader failed). */
  staleServed: number;
  /** Entries that could not be decoded (counted as misses and replaced). */
  corrupt: number;
  /** Redis failures and timeouts absorbed by failing open, plus failed background refreshes. */
  errors: number;
  /** The near cache, when enabled. */
  near?: NearCacheStats;
}

/** State of the near cache. */
export interface NearCacheStats {
  /** True while it serves: tracking is subscribed on every master. */
  live: boolean;
  /** Entries held in process memory. */
  entries: number;
  /** Approximate bytes held (stored size plus per-entry overhead). */
  bytes: number;
}

/** Payload of the `hit` event. */
export interface HitEvent {
  /** The cache key. */
  key: string;
  /** Where the value came from. */
  tier: 'near' | 'redis';
  /** True when a stale value was served while it is refreshed. */
  stale: boolean;
}

/** Payload of the `load` event. */
export interface LoadEvent {
  /** The cache key. */
  key: string;
  /** How long the loader ran. */
  durationMs: number;
  /** What the loader threw, if it did. */
  error?: unknown;
}

/** Payload of the `stale` event. */
export interface StaleEvent {
  /** The cache key. */
  key: string;
  /** Served while refreshing in the background, or because the loader failed. */
  reason: 'revalidate' | 'loader-error';
}

/** Payload of the `error` event. */
export interface ErrorEvent {
  /** What the cache was doing: `read`, `lease`, `write`, `tags`, `refresh`, `tracking`. */
  operation: string;
  /** The cache key, when the failure concerns one. */
  key?: string;
  /** The underlying error. */
  error: unknown;
}

/** Events of a cache; subscribe with `cache.on(name, listener)`. */
export interface CacheEvents {
  /** A read answered from the cache. */
  hit: [HitEvent];
  /** A read that found no usable entry. */
  miss: [MissEvent];
  /** A loader call finished (or threw). */
  load: [LoadEvent];
  /** A stale value was served. */
  stale: [StaleEvent];
  /** A Redis failure the cache absorbed (fail-open), or a failed background refresh. */
  error: [ErrorEvent];
}

/** Payload of the `miss` event. */
export interface MissEvent {
  /** The cache key. */
  key: string;
}

/** Counters and events in one object, so hot paths pay for an event only when someone listens. */
export class Telemetry extends EventEmitter<CacheEvents> {
  readonly counts = { hits: 0, nearHits: 0, misses: 0, loads: 0, staleServed: 0, corrupt: 0, errors: 0 };

  hit(key: string, tier: 'near' | 'redis', stale = false): void {
    this.counts.hits++;
    if (tier === 'near') this.counts.nearHits++;
    if (stale) this.counts.staleServed++;
    if (this.listenerCount('hit') > 0) this.emit('hit', { key, tier, stale });
    if (stale && this.listenerCount('stale') > 0) this.emit('stale', { key, reason: 'revalidate' });
  }

  miss(key: string): void {
    this.counts.misses++;
    if (this.listenerCount('miss') > 0) this.emit('miss', { key });
  }

  load(key: string, durationMs: number, error?: unknown): void {
    this.counts.loads++;
    if (this.listenerCount('load') > 0) {
      this.emit('load', error === undefined ? { key, durationMs } : { key, durationMs, error });
    }
  }

  staleOnError(key: string): void {
    this.counts.staleServed++;
    if (this.listenerCount('stale') > 0) this.emit('stale', { key, reason: 'loader-error' });
  }

  failure(operation: string, error: unknown, key?: string): void {
    this.counts.errors++;
    if (this.listenerCount('error') > 0) {
      this.emit('error', key === undefined ? { operation, error } : { operation, key, error });
    }
  }

  snapshot(near?: NearCacheStats): CacheStats {
    const { hits, misses } = this.counts;
    const stats: CacheStats = { ...this.counts, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses) };
    if (near !== undefined) stats.near = near;
    return stats;
  }
}
