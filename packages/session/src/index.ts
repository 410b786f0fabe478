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
export type { AdapterOptions, LegacySerializer, LegacyStore } from './adapter-options.js';
export { generateId, handleOf, isFrameworkId, isWellFormedId } from './ids.js';
export {
  createSessionInspector,
  type InspectedSession,
  type InspectedSessionWithData,
  type SessionInspector,
  type SessionInspectorOptions,
  type SessionPage,
  type SessionPageOptions,
  type UserRevocation,
} from './inspect.js';
export type { JsonLikeSerializer, SessionStoreOptions } from './options.js';
export { createSessionStore } from './store.js';
export type { Session, SessionData, SessionPatch, SessionStore, SessionSummary } from './types.js';
