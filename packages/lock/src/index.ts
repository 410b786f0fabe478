export {
  ClosedError,
  ConnectionError,
  connect,
  InvalidArgumentError,
  OwnershipLostError,
  RedisPatternsError,
  TimeoutError,
  toConnection,
} from '@redis-patterns/connection';
export { type LockLossReason, LockLostError, NotReplicatedError } from './errors.js';
export type { LockHandle } from './handle.js';
export { createLock, type DistributedLock } from './lock.js';
export type { AcquireOptions, LockOptions, RetryOptions } from './options.js';
