import {
  checkKeyPart,
  InvalidArgumentError,
  type RedisLike,
  type Serializer,
} from '@redis-patterns/connection';
import {
  checkBoolean,
  checkDuration,
  checkInteger,
  checkOptions,
  checkRenamed,
  checkSerializer,
} from '@redis-patterns/connection/internal';
import { losslessJson, type NamedSerializer } from './serializer.js';
import { type Check, resolveCheck, type ValueCheck } from './validation.js';

/** Per-entry options, accepted by the cache (as defaults) and by every read-through or write call. */
export interface EntryOptions {
  /** How long an entry is fresh. @default 60000 (cache option `ttlMs`) */
  ttlMs?: number;
  /** After `ttlMs`, serve the old value for this long while one caller refreshes it in the background. @default 0 */
  staleMs?: number;
  /** After `ttlMs`, serve the old value for this long when the loader throws. @default 0 */
  staleIfErrorMs?: number;
  /** Shortens each TTL by a random fraction up to this (0-1), so entries written together expire apart. @default 0 */
  jitter?: number;
  /** Tags to invalidate the entry by; {@link Cache.invalidateTag} makes it a miss at once. @default [] */
  tags?: readonly string[];
  /** Cache `null` and `undefined` loader results (negative caching). @default true */
  cacheNull?: boolean;
  /** Fresh time of a cached `null`/`undefined`. @default the entry's `ttlMs` */
  negativeTtlMs?: number;
  /** The most any Redis call of this operation waits; past it, reads fail open to the loader. @default 1000 */
  commandTimeoutMs?: number;
  /**
   * Checks every value read from the cache and every value loaded or set: a function returning `true`
   * for a usable value, or a Standard Schema object (Zod, Valibot, ArkType...; its output is what
   * callers get). A cached value that fails is a miss (reloaded, counted in `stats().invalid`, never
   * served from the near cache); a loaded or set value that fails rejects with `InvalidArgumentError`
   * and is not cached. Given on the cache it also applies to `get`, `has` and `getMany`.
   * @default undefined (no check)
   */
  validate?: ValueCheck;
}

/** Options of {@link Cache.set} and {@link Cache.setMany}. */
export interface SetOptions extends EntryOptions {
  /** Small data stored with the entry and returned by {@link Cache.inspect}. @default undefined */
  metadata?: unknown;
}

/** Options of the near cache (an in-process first tier kept coherent by Redis client tracking). */
export interface NearCacheOptions {
  /** Most entries kept in process memory (least recently used go first). @default 10000 */
  maxEntries?: number;
  /** Most bytes (as stored in Redis) kept in process memory. @default 67108864 (64 MiB) */
  maxBytes?: number;
  /** Longest an entry stays in the near cache, a safety net on top of invalidation messages. @default 60000 */
  ttlMs?: number;
}

/** Options of {@link createCache}. */
export interface CacheOptions extends Omit<EntryOptions, 'tags'> {
  /** A connection from `@redis-patterns/connection` or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** Prefix of every key the cache writes (no `{` or `}`). @default 'cache:' */
  prefix?: string;
  /** How long a load lease lives without renewal; a dead leader is replaced after at most this. @default 5000 */
  leaseTtlMs?: number;
  /** Longest a caller waits for another process's load before loading itself. @default 10000 */
  leaseWaitMs?: number;
  /** Largest serialized entry; bigger values are refused with InvalidArgumentError before any write. @default 1048576 */
  maxValueBytes?: number;
  /**
   * How values become strings or bytes (msgpack, protobuf, superjson...). It needs a stable `name`:
   * the cache stores it with every entry, so entries another serializer wrote read as misses.
   * @default losslessJson
   */
  serializer?: Serializer;
  /** Enables the near cache with these bounds (`true` for the defaults). @default false */
  nearCache?: boolean | NearCacheOptions;
}

export interface ResolvedEntryOptions {
  ttlMs: number;
  staleMs: number;
  staleIfErrorMs: number;
  jitter: number;
  tags: string[];
  cacheNull: boolean;
  negativeTtlMs: number | undefined;
  timeoutMs: number;
  validate: Check | undefined;
}

export interface ResolvedCacheOptions {
  prefix: string;
  leaseTtlMs: number;
  leaseWaitMs: number;
  maxValueBytes: number;
  serializer: NamedSerializer;
  nearCache: Required<NearCacheOptions> | undefined;
  defaults: ResolvedEntryOptions;
}

/** Validates and fills in the cache options: every default lives here. */
export function resolveCacheOptions(options: CacheOptions): ResolvedCacheOptions {
  if (options === undefined)
    throw new InvalidArgumentError('options', 'expected an object with at least `redis`.');
  checkOptions('options', options, 'an object with at least `redis`');
  checkDuration('leaseTtlMs', options.leaseTtlMs);
  checkDuration('leaseWaitMs', options.leaseWaitMs, { allowZero: true });
  checkInteger('maxValueBytes', options.maxValueBytes, 16);
  const nearCache = options.nearCache;
  if (nearCache !== undefined && typeof nearCache !== 'boolean')
    checkOptions('nearCache', nearCache, 'true, false or { maxEntries?, maxBytes?, ttlMs? }');
  const near = nearCache === true ? {} : nearCache || undefined;
  if (near !== undefined) {
    checkInteger('nearCache.maxEntries', near.maxEntries, 1);
    checkInteger('nearCache.maxBytes', near.maxBytes, 1);
    checkDuration('nearCache.ttlMs', near.ttlMs);
  }
  // The name is required (and so present): it is stored with each entry.
  const serializer = checkSerializer('serializer', options.serializer, losslessJson, true) as NamedSerializer;
  const base: ResolvedEntryOptions = {
    ttlMs: 60_000,
    staleMs: 0,
    staleIfErrorMs: 0,
    jitter: 0,
    tags: [],
    cacheNull: true,
    negativeTtlMs: undefined,
    timeoutMs: 1_000,
    validate: undefined,
  };
  return {
    prefix: options.prefix ?? 'cache:',
    leaseTtlMs: options.leaseTtlMs ?? 5_000,
    leaseWaitMs: options.leaseWaitMs ?? 10_000,
    maxValueBytes: options.maxValueBytes ?? 1_048_576,
    serializer,
    nearCache:
      near === undefined
        ? undefined
        : {
            maxEntries: near.maxEntries ?? 10_000,
            maxBytes: near.maxBytes ?? 64 * 1024 * 1024,
            ttlMs: near.ttlMs ?? 60_000,
          },
    defaults: resolveEntryOptions(options, base),
  };
}

/** Merges per-call options over the cache's defaults, refusing bad values before anything is sent. */
export function resolveEntryOptions(
  options: EntryOptions | undefined,
  base: ResolvedEntryOptions,
): ResolvedEntryOptions {
  if (options === undefined) return base;
  checkOptions('options', options, 'entry options');
  checkRenamed(options, { timeoutMs: 'commandTimeoutMs' });
  checkBoolean('cacheNull', options.cacheNull);
  checkBoolean('allowStale', (options as { allowStale?: unknown }).allowStale);
  checkDuration('ttlMs', options.ttlMs);
  checkDuration('staleMs', options.staleMs, { allowZero: true });
  checkDuration('staleIfErrorMs', options.staleIfErrorMs, { allowZero: true });
  checkDuration('negativeTtlMs', options.negativeTtlMs);
  checkDuration('commandTimeoutMs', options.commandTimeoutMs);
  if (
    options.jitter !== undefined &&
    !(typeof options.jitter === 'number' && options.jitter >= 0 && options.jitter < 1)
  ) {
    throw new InvalidArgumentError('jitter', `expected a fraction in [0, 1), got ${String(options.jitter)}.`);
  }
  if (options.tags !== undefined) {
    if (!Array.isArray(options.tags)) throw new InvalidArgumentError('tags', 'expected an array of strings.');
    for (const tag of options.tags) checkKeyPart('tags', tag);
  }
  return {
    ttlMs: options.ttlMs ?? base.ttlMs,
    staleMs: options.staleMs ?? base.staleMs,
    staleIfErrorMs: options.staleIfErrorMs ?? base.staleIfErrorMs,
    jitter: options.jitter ?? base.jitter,
    tags: options.tags === undefined ? base.tags : [...new Set(options.tags)],
    cacheNull: options.cacheNull ?? base.cacheNull,
    negativeTtlMs: options.negativeTtlMs ?? base.negativeTtlMs,
    timeoutMs: options.commandTimeoutMs ?? base.timeoutMs,
    validate: options.validate === undefined ? base.validate : resolveCheck(options.validate),
  };
}

/** Throws InvalidArgumentError unless `key` is a non-empty string within the key length limit. */
export function checkCacheKey(key: unknown): asserts key is string {
  checkKeyPart('key', key);
}
