import { ClosedError, InvalidArgumentError, toConnection } from '@redis-patterns/connection';
import type { ManyLoader } from './batch-loader.js';
import { createStore } from './commands/index.js';
import { checkFits, type Engine, type Found, frame, type Loader, lookup, tagTtl } from './entries.js';
import { type SerializedValue, serializeValue } from './envelope.js';
import { inspectEntry } from './inspect.js';
import { getManyOrLoad } from './load-many.js';
import { NearCache } from './near-cache.js';
import {
  type CacheOptions,
  checkCacheKey,
  type EntryOptions,
  type ResolvedEntryOptions,
  resolveCacheOptions,
  resolveEntryOptions,
} from './options.js';
import { instrumentCache } from './otel.js';
import { checkKeys, countRead, readMany } from './read-many.js';
import { getOrLoad, warm } from './read-through.js';
import { Telemetry } from './stats.js';
import { startTracking, type Tracking } from './tracking.js';
import type { Cache, EntryInfo, ReadOptions } from './types.js';
import { checkLoaded } from './validation.js';
import { wrapFunction } from './wrap.js';

/**
 * Creates a read-through cache. Nothing connects here; the near cache (if enabled) starts its
 * tracking connections in the background.
 *
 * @example
 * ```ts
 * import { connect, createCache } from '@redis-patterns/cache-aside';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const cache = createCache({ redis, prefix: 'app:cache:', ttlMs: 60_000, staleMs: 10_000 });
 *
 * const user = await cache.getOrLoad(`user:${id}`, () => db.users.find(id), { tags: [`user:${id}`] });
 * await cache.invalidateTag(`user:${id}`); // after an update: every entry tagged with it is a miss
 * ```
 */
export function createCache(options: CacheOptions): Cache {
  const resolved = resolveCacheOptions(options);
  const conn = toConnection(options.redis);
  const store = createStore(conn, resolved.prefix);
  const telemetry = new Telemetry();
  const near = resolved.nearCache === undefined ? undefined : new NearCache(resolved.nearCache);
  const e: Engine = {
    conn,
    store,
    near,
    telemetry,
    options: resolved,
    background: new Set(),
    flights: new Map(),
    refreshing: new Set(),
  };
  const tracking: Tracking | undefined =
    near === undefined
      ? undefined
      : startTracking(conn, store.trackedPrefixes, near, (err) => telemetry.failure('tracking', err));
  const defaults = resolved.defaults;
  // Drops this process's copy and its read in flight: a caller after a delete or write must read
  // again, not join a read (or load) that started before it.
  const forget = (key: string) => {
    near?.invalidate(store.entryKey(key));
    e.flights.delete(key);
  };

  // Every method checks this first (with the key: `checked`); reads from the near cache too.
  let closed = false;
  const open = () => {
    if (closed) throw new ClosedError('This cache was closed; create a new one.');
  };
  const checked = (key: unknown) => {
    open();
    checkCacheKey(key);
  };
  /** Writes one checked entry, its tags' versions first; this process's copies are dropped around it. */
  const put = async (key: string, value: unknown, serialized: SerializedValue, o: ResolvedEntryOptions) => {
    const tags = o.tags.length > 0 ? await store.ensureTags(o.tags, tagTtl(o), o.timeoutMs) : undefined;
    const { bytes, pxMs } = frame(e, serialized, value === null || value === undefined, o, tags);
    forget(key);
    await store.write(key, bytes, pxMs, o.timeoutMs);
    forget(key); // a read that raced the write may have kept the old value
  };

  /** One key for `get` and `has`; a read that Redis failed is a miss too, so every read counts once. */
  const readOne = async (key: string, opts: ReadOptions | undefined): Promise<Found | undefined> => {
    const o = resolveEntryOptions(opts, defaults);
    const found = await lookup(e, key, o.timeoutMs, o.validate).catch((err) => {
      telemetry.miss(key);
      throw err;
    });
    return countRead(e, key, found, opts?.allowStale) ? found : undefined;
  };

  const cache: Cache = instrumentCache({
    getOrLoad<T>(key: string, loader: Loader<T>, opts?: EntryOptions): Promise<T> {
      // Not async: a hit should not pay for one more promise layer.
      try {
        checked(key);
        if (typeof loader !== 'function') throw new InvalidArgumentError('loader', 'expected a function.');
        return getOrLoad(e, key, loader, opts === undefined ? defaults : resolveEntryOptions(opts, defaults));
      } catch (err) {
        return Promise.reject(err);
      }
    },

    wrap(fn, opts) {
      return wrapFunction(cache, fn, opts);
    },

    async get<T>(key: string, opts?: ReadOptions): Promise<T | undefined> {
      checked(key);
      return (await readOne(key, opts))?.value as T | undefined;
    },

    async has(key, opts) {
      checked(key);
      return (await readOne(key, opts)) !== undefined;
    },

    async set(key, value, opts) {
      checked(key);
      const o = resolveEntryOptions(opts, defaults);
      const serialized = serializeValue(value, opts?.metadata, resolved.serializer);
      checkFits(e, serialized, o);
      await checkLoaded(o.validate, key, value);
      await put(key, value, serialized, o);
    },

    async delete(key) {
      checked(key);
      forget(key);
      const removed = await store.remove([key], defaults.timeoutMs);
      forget(key);
      return removed > 0;
    },

    async getMany<T>(keys: readonly string[], opts?: ReadOptions): Promise<Array<T | undefined>> {
      open();
      checkKeys(keys);
      return readMany<T>(e, keys, resolveEntryOptions(opts, defaults), opts?.allowStale);
    },

    getManyOrLoad<T>(keys: readonly string[], loadMany: ManyLoader<T>, opts?: EntryOptions): Promise<T[]> {
      try {
        open();
        checkKeys(keys);
        if (typeof loadMany !== 'function')
          throw new InvalidArgumentError('loadMany', 'expected a function.');
        return getManyOrLoad(
          e,
          keys,
          loadMany,
          opts === undefined ? defaults : resolveEntryOptions(opts, defaults),
        );
      } catch (err) {
        return Promise.reject(err);
      }
    },

    async setMany(entries) {
      open();
      if (!Array.isArray(entries)) throw new InvalidArgumentError('entries', 'expected an array.');
      const prepared = entries.map((entry) => {
        checkCacheKey(entry?.key);
        const o = resolveEntryOptions(entry, defaults);
        const serialized = serializeValue(entry.value, entry.metadata, resolved.serializer);
        checkFits(e, serialized, o);
        return { entry, o, serialized };
      });
      await Promise.all(prepared.map(({ entry, o }) => checkLoaded(o.validate, entry.key, entry.value)));
      await Promise.all(
        prepared.map(({ entry, o, serialized }) => put(entry.key, entry.value, serialized, o)),
      );
    },

    async deleteMany(keys) {
      open();
      checkKeys(keys);
      for (const key of keys) forget(key);
      const removed = keys.length === 0 ? 0 : await store.remove([...new Set(keys)], defaults.timeoutMs);
      for (const key of keys) forget(key);
      return removed;
    },

    async inspect<T>(key: string, opts?: { commandTimeoutMs?: number }): Promise<EntryInfo<T> | undefined> {
      checked(key);
      return inspectEntry<T>(e, key, resolveEntryOptions(opts, defaults).timeoutMs);
    },

    async invalidateTag(tags) {
      open();
      const list = typeof tags === 'string' ? [tags] : tags;
      const o = resolveEntryOptions({ tags: list }, defaults);
      for (const tag of o.tags) near?.invalidate(store.tagKey(tag));
      // Which keys a read in flight will find tagged is unknown until it lands: drop them all.
      e.flights.clear();
      await store.invalidateTags(o.tags, o.timeoutMs);
      e.flights.clear();
      // Immediate for this process: a tag read that raced the DEL cannot be kept either.
      for (const tag of o.tags) near?.invalidate(store.tagKey(tag));
    },

    async deletePattern(glob) {
      open();
      if (typeof glob !== 'string' || glob === '') {
        throw new InvalidArgumentError('glob', 'expected a non-empty glob pattern such as "user:*".');
      }
      let removed = 0;
      let batch: string[] = [];
      const flush = async () => {
        for (const key of batch) forget(key);
        const count = await store.remove(batch, conn.commandTimeoutMs || defaults.timeoutMs);
        for (const key of batch) forget(key);
        removed += count;
        batch = [];
      };
      for await (const key of store.scanKeys(glob)) {
        batch.push(key);
        if (batch.length >= 500) await flush();
      }
      if (batch.length > 0) await flush();
      // A key counts once even though its lease key may have been deleted with it.
      return removed;
    },

    async warm(entries) {
      open();
      return warm(cache, entries);
    },

    stats: () => telemetry.snapshot(near === undefined ? undefined : { live: near.live, ...near.size }),

    on(event, listener) {
      telemetry.on(event, listener as never);
      return cache;
    },

    off(event, listener) {
      telemetry.off(event, listener as never);
      return cache;
    },

    async close() {
      closed = true;
      await tracking?.stop();
      await Promise.allSettled([...e.background]);
    },

    [Symbol.asyncDispose]() {
      return cache.close();
    },
  });
  return cache;
}
