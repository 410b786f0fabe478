import {
  ClosedError,
  checkKeyPart,
  InvalidArgumentError,
  type RedisConnection,
  toConnection,
} from '@redis-patterns/connection';
import { checkBoolean, checkInteger, checkOptions, checkPage } from '@redis-patterns/connection/internal';
import { createStore } from './commands/index.js';
import { createInspectStore } from './commands/inspect.js';
import { decodeEnvelope, decodeValue, type Envelope, stateOf } from './envelope.js';
import type {
  CacheInspector,
  CacheInspectorOptions,
  StoredCacheStats,
  StoredEntry,
} from './inspector-types.js';
import { checkCacheKey } from './options.js';
import { instrumentCacheInspector } from './otel.js';
import { losslessJson } from './serializer.js';

/** Keys one SCAN call of `stats()` asks for. */
const STATS_PAGE = 1000;
/** Tags listed by `stats()`. */
const MAX_TAGS = 100;

/**
 * Creates a {@link CacheInspector}. Nothing connects here.
 *
 * @example
 * ```ts
 * import { connect, createCache, createCacheInspector } from '@redis-patterns/cache-aside';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const cache = createCache({ redis, prefix: 'shop:cache:' });
 * await cache.set('product:1', { name: 'pen' }, { tags: ['products'] });
 *
 * const inspector = createCacheInspector({ redis, prefix: 'shop:cache:' });
 * console.log(await inspector.stats()); // { entries: 1, tagVersions: 1, approxMemoryBytes: ..., ... }
 * console.log(await inspector.get('product:1')); // { ttlMs, state: 'fresh', tags: [{ tag: 'products', current: true }], ... }
 * let cursor: string | undefined;
 * do {
 *   const page = await inspector.deleteByPattern('product:*', { cursor });
 *   console.log(`deleted ${page.deleted}`);
 *   cursor = page.cursor;
 * } while (cursor !== undefined);
 * await cache.close();
 * await redis.close();
 * ```
 */
export function createCacheInspector(options: CacheInspectorOptions): CacheInspector {
  if (options === undefined) throw new InvalidArgumentError('options', 'expected { redis, prefix? }.');
  checkOptions('options', options, '{ redis, prefix? }');
  const prefix = options.prefix ?? 'cache:';
  const conn: RedisConnection = toConnection(options.redis);
  const store = createStore(conn, prefix); // checks the prefix
  const reads = createInspectStore(conn, prefix);
  let closed = false;
  const open = () => {
    if (closed) throw new ClosedError('This cache inspector was closed; create a new one.');
  };
  const checkGlob = (name: string, glob: unknown): string => {
    checkKeyPart(name, glob);
    return glob;
  };

  const inspector: CacheInspector = instrumentCacheInspector({
    async stats(given) {
      open();
      const opts = checkOptions('options', given, '{ maxKeys?, sample? }');
      checkInteger('maxKeys', opts.maxKeys, 1);
      checkInteger('sample', opts.sample, 0);
      const maxKeys = Math.min(opts.maxKeys ?? 10_000, 1_000_000);
      const sampleSize = Math.min(opts.sample ?? 100, 1000);
      const counts = { entry: 0, tag: 0, lease: 0, other: 0 };
      const sample: string[] = [];
      let scannedKeys = 0;
      let cursor: string | undefined;
      // Pages are bounded too, not only keys found: over a keyspace of mostly other keys each page
      // finds few, and the walk would otherwise read the whole database (each page is at most ten
      // SCAN calls).
      let pages = 0;
      const maxPages = Math.ceil(maxKeys / STATS_PAGE) * 4;
      do {
        pages++;
        const page = await reads.prefixKeys(cursor, Math.min(STATS_PAGE, maxKeys - scannedKeys));
        scannedKeys += page.keys.length;
        for (const redisKey of page.keys) {
          const { kind, name } = reads.classify(redisKey);
          counts[kind]++;
          if (kind === 'entry' && sample.length < sampleSize) sample.push(name);
        }
        cursor = page.cursor;
      } while (cursor !== undefined && scannedKeys < maxKeys && pages < maxPages);
      const memory = await sampled(sample);
      const stats: StoredCacheStats = {
        entries: counts.entry,
        tagVersions: counts.tag,
        loadsInFlight: counts.lease,
        complete: cursor === undefined,
        scannedKeys,
        ...memory,
        approxMemoryBytes: counts.entry * memory.meanEntryBytes,
      };
      return stats;
    },

    async listKeys(given) {
      open();
      const opts = checkOptions('options', given, '{ cursor?, count?, match? }');
      const count = checkPage(opts);
      const match = opts.match === undefined ? '*' : checkGlob('match', opts.match);
      const page = await reads.entryKeys(match, opts.cursor, count);
      return { items: page.keys, cursor: page.cursor };
    },

    async get(key, given) {
      open();
      checkCacheKey(key);
      const opts = checkOptions('options', given, '{ value? }');
      const withValue = checkBoolean('value', opts.value) ?? false;
      const head = await reads.head(key);
      if (head === null) return undefined;
      const envelope = decodeEnvelope(head.bytes);
      if (envelope === undefined) return undefined;
      const entry = await describe(key, envelope, head.size, head.ttlMs);
      if (!withValue) return entry;
      const whole = head.bytes.length === head.size ? head.bytes : await reads.value(key);
      const full = whole === null ? undefined : decodeEnvelope(whole);
      return full === undefined ? undefined : { ...entry, value: storedValue(full) };
    },

    async invalidateTag(tag) {
      open();
      checkKeyPart('tag', tag);
      return (await store.invalidateTags([tag], conn.commandTimeoutMs)) > 0;
    },

    async deleteByPattern(pattern, given) {
      open();
      checkGlob('pattern', pattern);
      const opts = checkOptions('options', given, '{ cursor?, count? }');
      const count = checkPage(opts);
      const page = await reads.entryKeys(pattern, opts.cursor, count);
      const keys = [...new Set(page.keys)];
      const deleted = keys.length === 0 ? 0 : await store.remove(keys, conn.commandTimeoutMs);
      return { deleted, matched: keys.length, cursor: page.cursor };
    },

    async ping() {
      open();
      return reads.pingMs();
    },

    async close() {
      closed = true;
    },

    [Symbol.asyncDispose]() {
      return inspector.close();
    },
  });

  /** Memory and tags of the sampled entries (a MEMORY USAGE and a header read each). */
  const sampled = async (keys: string[]) => {
    const found = await Promise.all(
      keys.map(async (key) => {
        const [memory, head] = await Promise.all([reads.memory(store.entryKey(key)), reads.head(key)]);
        const envelope = head === null ? undefined : decodeEnvelope(head.bytes);
        return memory === null ? undefined : { memory, tags: envelope?.tags ?? [] };
      }),
    );
    const live = found.filter((item) => item !== undefined);
    const byTag = new Map<string, number>();
    for (const { tags } of live) for (const [tag] of tags) byTag.set(tag, (byTag.get(tag) ?? 0) + 1);
    const total = live.reduce((sum, { memory }) => sum + memory, 0);
    return {
      sampledEntries: live.length,
      meanEntryBytes: live.length === 0 ? 0 : Math.round(total / live.length),
      tags: [...byTag]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, MAX_TAGS)
        .map(([tag, sampledEntries]) => ({ tag, sampledEntries })),
    };
  };

  /** The entry's times, state and tags (each tag's version checked against Redis). */
  const describe = async (key: string, envelope: Envelope, bytes: number, ttlMs: number) => {
    const tags = envelope.tags ?? [];
    const current =
      tags.length === 0
        ? new Map()
        : await store.tagVersions(
            tags.map(([t]) => t),
            conn.commandTimeoutMs,
          );
    const tagStates = tags.map(([tag, version]) => ({ tag, current: current.get(tag) === version }));
    const freshUntil = envelope.createdMs + envelope.freshMs;
    const entry: StoredEntry = {
      key,
      ttlMs,
      bytes,
      createdAt: envelope.createdMs,
      freshUntil,
      staleUntil: freshUntil + envelope.staleMs,
      staleIfErrorUntil: freshUntil + envelope.staleIfErrorMs,
      state: tagStates.every((t) => t.current) ? stateOf(envelope, Date.now()) : 'invalidated',
      tags: tagStates,
      codec: envelope.codec,
      metadata: envelope.metadata,
    };
    return entry;
  };

  return inspector;
}

/** The stored value: decoded when lossless JSON or raw bytes wrote it, else the payload's bytes. */
function storedValue(envelope: Envelope): unknown {
  try {
    return decodeValue(envelope, losslessJson);
  } catch {
    return envelope.payload;
  }
}
