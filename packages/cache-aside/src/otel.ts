/**
 * OpenTelemetry of the cache: a `cache <op>` span per public call when a tracer records, and the
 * metrics of reads (`redis_patterns.cache.requests`), loads (`redis_patterns.cache.load.duration`),
 * stale serves (`redis_patterns.cache.stale.served`) and the Redis failures absorbed by failing open
 * (`redis_patterns.cache.errors`). Without `@opentelemetry/api` installed,
 * each costs one no-op call. The in-process counters and events of stats.ts are fed separately.
 */
import { createRequire } from 'node:module';
import { type TelemetrySpan, telemetry } from '@redis-patterns/connection/internal';
import type { CacheInspector } from './inspector-types.js';
import type { StaleEvent } from './stats.js';
import type { Cache } from './types.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const otel = telemetry('@redis-patterns/cache-aside', version);

const requests = otel.counter('redis_patterns.cache.requests', {
  description:
    'Cache reads by result: hit, miss, stale (served while refreshed) or joined (got another call’s load).',
  unit: '{request}',
});
const loadDuration = otel.histogram('redis_patterns.cache.load.duration', {
  description: 'How long loaders ran, failed ones included (with error.type).',
  unit: 's',
});
const staleServed = otel.counter('redis_patterns.cache.stale.served', {
  description: 'Stale values served, by reason: revalidate, loader-error or allow-stale.',
  unit: '{value}',
});

const errors = otel.counter('redis_patterns.cache.errors', {
  description:
    'Redis failures absorbed by failing open, and failed background refreshes, by what the cache was doing: read, lease, write, tags, refresh or tracking.',
  unit: '{error}',
});

// One frozen object per label value: a hit records without allocating.
const RESULT = {
  hit: Object.freeze({ result: 'hit' }),
  miss: Object.freeze({ result: 'miss' }),
  stale: Object.freeze({ result: 'stale' }),
  joined: Object.freeze({ result: 'joined' }),
};
const REASON = {
  revalidate: Object.freeze({ reason: 'revalidate' }),
  'loader-error': Object.freeze({ reason: 'loader-error' }),
  'allow-stale': Object.freeze({ reason: 'allow-stale' }),
};

/** Counts one read by its result. */
export function countRequest(result: keyof typeof RESULT): void {
  requests(1, RESULT[result]);
}

/** Label objects of `errors`, one per operation (a fixed set named in the code, not by callers). */
const OPERATION = new Map<string, Readonly<{ operation: string }>>();

/** Counts one failure absorbed while doing `operation`. */
export function countError(operation: string): void {
  let labels = OPERATION.get(operation);
  if (labels === undefined) {
    labels = Object.freeze({ operation });
    OPERATION.set(operation, labels);
  }
  errors(1, labels);
}

/** Counts one stale value served. */
export function countStale(reason: StaleEvent['reason']): void {
  staleServed(1, REASON[reason]);
}

/** Records one loader run of `durationMs`; a failed one carries `error.type`. */
export function recordLoad(durationMs: number, error: unknown): void {
  if (error === undefined) {
    loadDuration(durationMs / 1000);
    return;
  }
  const type = error instanceof Error ? ((error as { code?: unknown }).code ?? error.name) : '_OTHER';
  loadDuration(durationMs / 1000, { 'error.type': String(type) });
}

type Operation = Exclude<keyof Cache, 'stats' | 'on' | 'off' | 'close' | 'wrap' | typeof Symbol.asyncDispose>;

/** Sets the key attribute on a recording span (keys never go in span names or metric labels). */
function keyed(span: TelemetrySpan | undefined, key: unknown): void {
  if (span !== undefined && typeof key === 'string') span.setAttribute('redis_patterns.cache.key', key);
}

/** Sets the key count attribute on a recording span of a batch operation. */
function counted(span: TelemetrySpan | undefined, keys: unknown): void {
  if (span !== undefined && Array.isArray(keys))
    span.setAttribute('redis_patterns.cache.key_count', keys.length);
}

/** `cache` with every public operation traced; `wrap` goes through the traced `getOrLoad`. */
export function instrumentCache(cache: Cache): Cache {
  const span = <T>(operation: Operation, fn: (s: TelemetrySpan | undefined) => Promise<T>) =>
    otel.span(`cache ${operation}`, otel.operation(operation), fn);
  return {
    ...cache,
    getOrLoad: (key, loader, options) =>
      span('getOrLoad', (s) => {
        keyed(s, key);
        return cache.getOrLoad(key, loader, options);
      }),
    get: (key, options) =>
      span('get', (s) => {
        keyed(s, key);
        return cache.get(key, options);
      }),
    has: (key, options) =>
      span('has', (s) => {
        keyed(s, key);
        return cache.has(key, options);
      }),
    set: (key, value, options) =>
      span('set', (s) => {
        keyed(s, key);
        return cache.set(key, value, options);
      }),
    delete: (key) =>
      span('delete', (s) => {
        keyed(s, key);
        return cache.delete(key);
      }),
    getMany: (keys, options) =>
      span('getMany', (s) => {
        counted(s, keys);
        return cache.getMany(keys, options);
      }),
    getManyOrLoad: (keys, loadMany, options) =>
      span('getManyOrLoad', (s) => {
        counted(s, keys);
        return cache.getManyOrLoad(keys, loadMany, options);
      }),
    setMany: (entries) =>
      span('setMany', (s) => {
        counted(s, entries);
        return cache.setMany(entries);
      }),
    deleteMany: (keys) =>
      span('deleteMany', (s) => {
        counted(s, keys);
        return cache.deleteMany(keys);
      }),
    inspect: (key, options) =>
      span('inspect', (s) => {
        keyed(s, key);
        return cache.inspect(key, options);
      }),
    invalidateTag: (tags) => span('invalidateTag', () => cache.invalidateTag(tags)),
    deletePattern: (glob) => span('deletePattern', () => cache.deletePattern(glob)),
    warm: (entries) => span('warm', () => cache.warm(entries)),
  };
}

/** `inspector` with every call but `ping` and `close` in a `cache inspect.<method>` span, with the key where one is given. */
export function instrumentCacheInspector(inspector: CacheInspector): CacheInspector {
  const span = <T>(operation: string, call: (s: TelemetrySpan | undefined) => Promise<T>) =>
    otel.span(`cache ${operation}`, otel.operation(operation), call);
  return {
    ...inspector,
    stats: (options) => span('inspect.stats', () => inspector.stats(options)),
    listKeys: (options) => span('inspect.listKeys', () => inspector.listKeys(options)),
    get: (key, options) =>
      span('inspect.get', (s) => {
        keyed(s, key);
        return inspector.get(key, options);
      }),
    invalidateTag: (tag) => span('inspect.invalidateTag', () => inspector.invalidateTag(tag)),
    deleteByPattern: (pattern, options) =>
      span('inspect.deleteByPattern', () => inspector.deleteByPattern(pattern, options)),
  };
}
