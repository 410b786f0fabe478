export { packByTag, settleEach, settleSlots, TickBatcher, type TickBatcherOptions } from './batch.js';
export {
  type CommandOptions,
  type ConnectionOptions,
  connect,
  type DedicatedConnection,
  type RedisClient,
  type RedisCluster,
  type RedisConnection,
  type RedisLike,
  type RedisSentinel,
  type Topology,
  toConnection,
} from './connection.js';
export { DeadlineSweeper } from './deadline.js';
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
  checkDuration,
  checkInteger,
  type ParsedRedisUrl,
  parseRedisUrl,
  type RedisAddress,
  redact,
} from './options.js';
export { defineScript, type Script } from './scripts.js';
