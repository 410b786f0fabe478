// Everything a README example needs comes from this package alone: the connection and every error it can throw.
export {
  ClosedError,
  ConnectionError,
  type ConnectionOptions,
  connect,
  InvalidArgumentError,
  type RedisConnection,
  type RedisLike,
  RedisPatternsError,
  type RedisPatternsErrorCode,
  type Serializer,
  TimeoutError,
  toConnection,
} from '@redis-patterns/connection';
export type { ManyLoader, ManyLoaderContext } from './batch-loader.js';
export { createCache } from './cache.js';
export type { Loader, LoaderContext } from './entries.js';
export { createCacheInspector } from './inspector.js';
export type {
  CacheInspector,
  CacheInspectorOptions,
  CacheKeyPage,
  CachePageOptions,
  DeletePage,
  ListKeysOptions,
  StoredCacheStats,
  StoredEntry,
  StoredStatsOptions,
  TagState,
  TagUsage,
} from './inspector-types.js';
export type { LoaderWindows } from './loader-context.js';
export type {
  CacheOptions,
  EntryOptions,
  NearCacheOptions,
  SetOptions,
} from './options.js';
export { losslessJson, type NamedSerializer } from './serializer.js';
export type {
  CacheEvents,
  CacheStats,
  ErrorEvent,
  HitEvent,
  JoinEvent,
  LoadEvent,
  MissEvent,
  NearCacheStats,
  StaleEvent,
} from './stats.js';
export type { Cache, EntryInfo, ReadOptions, WarmEntry, WarmResult } from './types.js';
export type { StandardIssue, StandardResult, StandardSchemaLike, ValueCheck } from './validation.js';
export { type CachedMethod, type CachedOptions, cached, type WrapOptions } from './wrap.js';
