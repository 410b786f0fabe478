import type { ManyLoader } from './batch-loader.js';
import type { Loader } from './entries.js';
import type { EntryOptions, SetOptions } from './options.js';
import type { CacheEvents, CacheStats } from './stats.js';
import type { WrapOptions } from './wrap.js';

/** Options of reads that do not load ({@link Cache.get}, {@link Cache.has}, {@link Cache.getMany}). */
export interface ReadOptions {
  /** Also return values past their fresh time but within their stale window. @default false */
  allowStale?: boolean;
  /** The most the Redis calls wait. @default the cache's commandTimeoutMs */
  commandTimeoutMs?: number;
}

/** What {@link Cache.inspect} tells about one entry. */
export interface EntryInfo<T = unknown> {
  /** The cached value. */
  value: T;
  /** The metadata given to `set`, if any. */
  metadata: unknown;
  /** When the entry was written (writer's clock). */
  createdAt: Date;
  /** Fresh until this time; then stale, then gone. */
  freshUntil: Date;
  /** Remaining time before Redis drops the key, in milliseconds (-1: no expiry). */
  remainingTtlMs: number;
  /** `invalidated` when one of its tags was invalidated since it was written. */
  state: 'fresh' | 'stale' | 'error-only' | 'expired' | 'invalidated';
  /** Tags the entry was written with. */
  tags: string[];
  /** Size as stored in Redis. */
  bytes: number;
}

/** One entry for {@link Cache.warm}: loaded only when the cache has no usable value. */
export interface WarmEntry<T = unknown> extends EntryOptions {
  /** The cache key. */
  key: string;
  /** Loads the value when it is missing. */
  loader: Loader<T>;
}

/** What {@link Cache.warm} did. */
export interface WarmResult {
  /** Entries that were missing and got loaded. */
  loaded: number;
}

/** A read-through cache over Redis. Create it with {@link createCache}. */
export interface Cache extends AsyncDisposable {
  /** Returns the cached value, or calls `loader` once (across processes) and caches its result. */
  getOrLoad<T>(key: string, loader: Loader<T>, options?: EntryOptions): Promise<T>;
  /** A cached version of `fn` with the same arguments, keyed by `options.key(...args)`. */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    options: WrapOptions<A>,
  ): (...args: A) => Promise<Awaited<R>>;
  /** The cached value, or undefined; Redis failures reject with typed errors. */
  get<T = unknown>(key: string, options?: ReadOptions): Promise<T | undefined>;
  /** Writes a value (refused before any write if it cannot be stored or is too big). */
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  /** Deletes an entry (and cancels a load in flight for it); true if it existed. */
  delete(key: string): Promise<boolean>;
  /** True when a usable (fresh, or stale with `allowStale`) entry exists; counted in stats() as `get` is. */
  has(key: string, options?: ReadOptions): Promise<boolean>;
  /** Values in the order of `keys` (undefined for misses): one MGET per node (per slot on Cluster). */
  getMany<T = unknown>(keys: readonly string[], options?: ReadOptions): Promise<Array<T | undefined>>;
  /**
   * The batch cache-aside read: values in the order of `keys`. Reads every key at once (one `MGET`
   * per slot, in parallel), then calls `loadMany` once with only the keys that are missing and that no
   * other caller is loading, and writes their values (one script per slot). Each key keeps the
   * single-key guarantees: a key already loading in this process (by `getOrLoad` or another
   * `getManyOrLoad`) is joined, a key leased by another process is waited for, stale values are
   * served while refreshed, and fail-open applies. `loadMany` returns an array in the order of the
   * keys it got, or a Map from key to value; its context sets a TTL or skips caching per key, and
   * `validate` checks each value.
   *
   * @example
   * ```ts
   * const users = await cache.getManyOrLoad(ids.map((id) => `user:${id}`), async (keys, ctx) => {
   *   const rows: Map<string, User> = await db.users.findByCacheKeys(keys); // one query
   *   for (const key of keys) if (!rows.has(key)) ctx.setTtl(key, 5_000); // absent: ask again soon
   *   return rows; // a key the Map lacks is cached as undefined
   * });
   * ```
   */
  getManyOrLoad<T>(keys: readonly string[], loadMany: ManyLoader<T>, options?: EntryOptions): Promise<T[]>;
  /** Writes several entries; all are validated before the first write. */
  setMany(entries: ReadonlyArray<SetOptions & { key: string; value: unknown }>): Promise<void>;
  /** Deletes several entries: one DEL per node (per slot on Cluster); returns how many existed. */
  deleteMany(keys: readonly string[]): Promise<number>;
  /** Value, metadata, times and remaining TTL of an entry, or undefined. */
  inspect<T = unknown>(
    key: string,
    options?: { commandTimeoutMs?: number },
  ): Promise<EntryInfo<T> | undefined>;
  /** Makes every entry carrying one of these tags a miss at once, on every node. */
  invalidateTag(tags: string | readonly string[]): Promise<void>;
  /** Deletes every entry whose key matches the glob (`*`, `?`, `[...]`), by SCAN on every master; returns the count. */
  deletePattern(glob: string): Promise<number>;
  /** Loads the entries that are missing (8 at a time); returns how many were loaded. */
  warm(entries: readonly WarmEntry[]): Promise<WarmResult>;
  /** Counters since creation: every read counts once, as a hit, a miss or joined. */
  stats(): CacheStats;
  /** Subscribes to an event (`hit`, `miss`, `join`, `load`, `stale`, `error`); listeners cost nothing when absent. */
  on<E extends keyof CacheEvents>(event: E, listener: (...args: CacheEvents[E]) => void): this;
  /** Removes a listener added with {@link Cache.on}. */
  off<E extends keyof CacheEvents>(event: E, listener: (...args: CacheEvents[E]) => void): this;
  /**
   * Refuses later calls with `ClosedError`, waits for background refreshes and stops the near cache.
   * The connection stays open: close it yourself.
   */
  close(): Promise<void>;
  /** Same as {@link Cache.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
