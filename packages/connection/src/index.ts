export { connect, toConnection } from './connect.js';
export {
  ClosedError,
  ConnectionError,
  InvalidArgumentError,
  isWatchError,
  OwnershipLostError,
  RedisPatternsError,
  type RedisPatternsErrorCode,
  TimeoutError,
  toPatternsError,
} from './errors.js';
export {
  checkKeyPart,
  createKeyspace,
  escapeGlob,
  type Keyspace,
  MAX_KEY_PART_LENGTH,
  slotOf,
  tagOf,
} from './keys.js';
export {
  type ParsedRedisUrl,
  parseRedisUrl,
  type RedisAddress,
  redact,
} from './options.js';
export { defineScript, type Script } from './scripts.js';
export { jsonSerializer, type Serializer } from './serializer.js';
export type {
  CommandOptions,
  ConnectionOptions,
  DedicatedConnection,
  RedisClient,
  RedisCluster,
  RedisConnection,
  RedisLike,
  RedisSentinel,
  Topology,
} from './types.js';
