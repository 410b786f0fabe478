import type { RedisLike } from '@redis-patterns/connection';

/** Options of {@link createCacheInspector}: only what a CLI knows, a connection and a prefix. */
export interface CacheInspectorOptions {
  /** A connection from `connect()` or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** The prefix the cache was created with. @default 'cache:' */
  prefix?: string;
}

/** Where a page starts and how many keys it looks at. */
export interface CachePageOptions {
  /** The `cursor` of the previous page; leave it out for the first page. */
  cursor?: string;
  /** Most keys this page looks at. @default 100 (at most 1000) */
  count?: number;
}

/** Options of {@link CacheInspector.listKeys}. */
export interface ListKeysOptions extends CachePageOptions {
  /**
   * A glob over cache keys (the keys given to `getOrLoad`, `set`...): `*`, `?`, `[...]` and `\`
   * work as in Redis's MATCH; the prefix is always literal.
   * @default '*'
   */
  match?: string;
}

/** A page of cache keys. */
export interface CacheKeyPage {
  /** Cache keys (without the prefix); may be fewer than `count`, or none, while `cursor` is set. */
  items: string[];
  /** Pass it back for the next page; undefined when the listing is complete. */
  cursor: string | undefined;
}

/** Options of {@link CacheInspector.stats}. */
export interface StoredStatsOptions {
  /** Most keys under the prefix the SCAN counts before it stops (`complete: false`). @default 10_000 (at most 1_000_000) */
  maxKeys?: number;
  /** Entries whose MEMORY USAGE and tags are read. @default 100 (at most 1000) */
  sample?: number;
}

/**
 * What Redis itself says about a cache. Hit and miss counters are not here: each process counts its
 * own reads, in its cache's `stats()`; Redis does not see which read was a hit.
 */
export interface StoredCacheStats {
  /** Entries counted (all of them when `complete`, else a lower bound). */
  entries: number;
  /** Tag versions counted: tags entries were written with since the tag was last invalidated. */
  tagVersions: number;
  /** Load leases counted: keys some process is loading right now. */
  loadsInFlight: number;
  /** True when the SCAN covered every key under the prefix (within `maxKeys`). */
  complete: boolean;
  /** Keys the SCAN returned under the prefix. */
  scannedKeys: number;
  /** Entries whose memory and tags were read. */
  sampledEntries: number;
  /** Mean MEMORY USAGE of the sampled entries, in bytes (0 without a sample). */
  meanEntryBytes: number;
  /** `entries × meanEntryBytes`: the memory the entries take, roughly. */
  approxMemoryBytes: number;
  /**
   * Tags of the sampled entries and how many sampled entries carry each, most used first (at most
   * 100). The cache keeps a version per tag, not a set of its keys, so a tag's size is known from
   * entries only.
   */
  tags: TagUsage[];
}

/** A tag seen in the `stats()` sample. */
export interface TagUsage {
  /** The tag. */
  tag: string;
  /** Sampled entries written with it. */
  sampledEntries: number;
}

/** One entry as stored, from {@link CacheInspector.get}. Times are epoch ms on the writer's clock. */
export interface StoredEntry {
  /** The cache key. */
  key: string;
  /** Time before Redis drops the key, in ms (-1: no expiry). */
  ttlMs: number;
  /** Bytes of the stored string (header and value). */
  bytes: number;
  /** When it was written. */
  createdAt: number;
  /** Fresh until then. */
  freshUntil: number;
  /** Served stale (while one caller refreshes) until then. */
  staleUntil: number;
  /** Served when the loader fails until then. */
  staleIfErrorUntil: number;
  /** Where it stands now; `invalidated` when one of its tags was invalidated since it was written. */
  state: 'fresh' | 'stale' | 'error-only' | 'expired' | 'invalidated';
  /** Its tags and whether each version it was written with is still current. */
  tags: TagState[];
  /** The serializer that wrote it (`lj1`: the default lossless JSON; `raw:B`: a Buffer). */
  codec: string;
  /** The metadata given to `set`, if any. */
  metadata: unknown;
  /**
   * Only with `{ value: true }`: the value, decoded when the default serializer (or raw bytes)
   * wrote it; otherwise the stored payload's bytes, since the app's serializer is unknown here.
   */
  value?: unknown;
}

/** One tag of an entry. */
export interface TagState {
  /** The tag. */
  tag: string;
  /** False once the tag was invalidated after the entry was written: the entry is then a miss. */
  current: boolean;
}

/** What one page of {@link CacheInspector.deleteByPattern} did. */
export interface DeletePage {
  /** Entries deleted by this page. */
  deleted: number;
  /** Entries this page found matching (some may have expired or been deleted meanwhile). */
  matched: number;
  /** Pass it back for the next page; undefined once every master was scanned. */
  cursor: string | undefined;
}

/**
 * Read and repair a cache from outside the app (the `redis-patterns` CLI, a dashboard). Every
 * call is bounded: listings and deletes go a page at a time over a cluster-wide SCAN under the
 * cache's prefix (never KEYS).
 */
export interface CacheInspector extends AsyncDisposable {
  /** Counts and approximate memory from a bounded SCAN and a MEMORY USAGE sample. */
  stats(options?: StoredStatsOptions): Promise<StoredCacheStats>;
  /** A page of cache keys, optionally matching a glob. */
  listKeys(options?: ListKeysOptions): Promise<CacheKeyPage>;
  /** An entry's metadata (and its value with `{ value: true }`); undefined when absent or corrupt. */
  get(key: string, options?: { value?: boolean }): Promise<StoredEntry | undefined>;
  /**
   * Invalidates a tag as `cache.invalidateTag` does (every entry written with it becomes a miss,
   * near caches are told by Redis). True when the tag had a version, false when no live entry used it.
   */
  invalidateTag(tag: string): Promise<boolean>;
  /**
   * Deletes one page of the entries whose keys match `pattern` (a glob over cache keys, as in
   * `listKeys`), with their load leases. Call again with the returned cursor until it is undefined.
   */
  deleteByPattern(pattern: string, options?: CachePageOptions): Promise<DeletePage>;
  /** Round-trip time of a PING in ms. */
  ping(): Promise<number>;
  /** Refuses later calls with `ClosedError`; the connection stays open (close it yourself). */
  close(): Promise<void>;
}
