import { EventEmitter } from 'node:events';
import { countError, countRequest, countStale, recordLoad } from './otel.js';

/**
 * Counters since the cache was created (this process only). Every read counts once, in exactly one
 * of `hits`, `misses` and `joined`: a `getOrLoad` (also through `wrap`, `@cached` and `warm`), a `get`,
 * a `has`, and each key of a `getMany`. Calls refused before reading (bad arguments, a closed cache)
 * are not counted.
 *
 * @example
 * ```ts
 * const { hits, misses, joined, hitRate } = cache.stats();
 * console.log(`${hits + misses + joined} reads, ${joined} joined a load, hit rate ${hitRate}`);
 * ```
 */
export interface CacheStats {
  /**
   * Reads answered by a usable entry (Redis or near cache), stale values served included: the first
   * read, the read that comes back with a lease attempt, or a read in flight in this process that
   * found the entry and was shared.
   */
  hits: number;
  /** Of `hits`, those answered by the near cache without a round trip. */
  nearHits: number;
  /**
   * Reads that found no usable entry and did not join another caller's load: the ones that ran the
   * loader (Redis down or failing included, and whether the loader returned, threw, or was replaced
   * by a stale-if-error value), and `get`, `has` and `getMany` reads that found nothing or were
   * rejected by a Redis failure.
   */
  misses: number;
  /**
   * `getOrLoad` calls that found no usable entry and ran no loader, but got the result of another
   * caller's load: one in flight in this process for the same key (its value or its error), or one
   * in another process, whose value they read after waiting for its lease.
   */
  joined: number;
  /**
   * The share of reads that got a value without a load of their own: (hits + joined) / (hits +
   * misses + joined), that is 1 - misses / reads; 0 before the first read. Joined reads count for
   * the rate as hits do, since the single flight spared their load; for the share the stored entries
   * answered alone, compute hits / (hits + misses + joined).
   */
  hitRate: number;
  /** Loader calls made by this process. */
  loads: number;
  /** Reads that got a stale value (served while revalidating, or because the loader failed). */
  staleServed: number;
  /** Entries that could not be decoded (read as absent, and replaced by the next load). */
  corrupt: number;
  /**
   * Cached values that failed the `validate` check (read as a miss, and replaced by the next load).
   * Each such read counts here once, besides its hit/miss/joined outcome.
   */
  invalid: number;
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

/** Payload of the `join` event. */
export interface JoinEvent {
  /** The cache key. */
  key: string;
  /** Whose load it joined: a call in this process (`flight`), or another process's (`lease`). */
  via: 'flight' | 'lease';
}

/** Payload of the `load` event. */
export interface LoadEvent {
  /** The cache key (the first of `keys` for a batch load). */
  key: string;
  /** Every key a batch loader (`getManyOrLoad`) was called with; absent for a single-key load. */
  keys?: readonly string[];
  /** How long the loader ran. */
  durationMs: number;
  /** What the loader threw, if it did. */
  error?: unknown;
}

/** Payload of the `stale` event. */
export interface StaleEvent {
  /** The cache key. */
  key: string;
  /**
   * Served while refreshing in the background (`getOrLoad`, `wrap`), because the loader failed, or
   * because a read without a loader asked for it (`get`, `has`, `getMany` with `allowStale`): nothing
   * refreshes that one.
   */
  reason: 'revalidate' | 'loader-error' | 'allow-stale';
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
  /** A read answered from the cache (see {@link CacheStats.hits}). */
  hit: [HitEvent];
  /** A read that found no usable entry and joined no load (see {@link CacheStats.misses}). */
  miss: [MissEvent];
  /** A read that got another caller's load (see {@link CacheStats.joined}). */
  join: [JoinEvent];
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
  readonly counts = {
    hits: 0,
    nearHits: 0,
    misses: 0,
    joined: 0,
    loads: 0,
    staleServed: 0,
    corrupt: 0,
    invalid: 0,
    errors: 0,
  };

  hit(key: string, tier: 'near' | 'redis', stale = false, reason: StaleEvent['reason'] = 'revalidate'): void {
    this.counts.hits++;
    if (tier === 'near') this.counts.nearHits++;
    if (stale) this.counts.staleServed++;
    countRequest(stale ? 'stale' : 'hit');
    if (stale) countStale(reason);
    if (this.listenerCount('hit') > 0) this.emit('hit', { key, tier, stale });
    if (stale && this.listenerCount('stale') > 0) this.emit('stale', { key, reason });
  }

  miss(key: string): void {
    this.counts.misses++;
    countRequest('miss');
    if (this.listenerCount('miss') > 0) this.emit('miss', { key });
  }

  joined(key: string, via: JoinEvent['via']): void {
    this.counts.joined++;
    countRequest('joined');
    if (this.listenerCount('join') > 0) this.emit('join', { key, via });
  }

  load(key: string, durationMs: number, error?: unknown, keys?: readonly string[]): void {
    this.counts.loads++;
    recordLoad(durationMs, error);
    if (this.listenerCount('load') > 0) {
      const event: LoadEvent = error === undefined ? { key, durationMs } : { key, durationMs, error };
      if (keys !== undefined) event.keys = keys;
      this.emit('load', event);
    }
  }

  staleOnError(key: string): void {
    this.counts.staleServed++;
    countStale('loader-error');
    if (this.listenerCount('stale') > 0) this.emit('stale', { key, reason: 'loader-error' });
  }

  failure(operation: string, error: unknown, key?: string): void {
    this.counts.errors++;
    countError(operation);
    if (this.listenerCount('error') > 0) {
      this.emit('error', key === undefined ? { operation, error } : { operation, key, error });
    }
  }

  snapshot(near?: NearCacheStats): CacheStats {
    const { hits, misses, joined } = this.counts;
    const reads = hits + misses + joined;
    const stats: CacheStats = { ...this.counts, hitRate: reads === 0 ? 0 : (hits + joined) / reads };
    if (near !== undefined) stats.near = near;
    return stats;
  }
}
