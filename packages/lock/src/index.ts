// Everything a README example needs comes from this package alone: the connection and every error it can throw.
export {
  ClosedError,
  ConnectionError,
  type ConnectionOptions,
  connect,
  InvalidArgumentError,
  OwnershipLostError,
  type RedisConnection,
  type RedisLike,
  RedisPatternsError,
  type RedisPatternsErrorCode,
  TimeoutError,
  toConnection,
} from '@redis-patterns/connection';
export { type LockLossReason, LockLostError, NotReplicatedError } from './errors.js';
export type { LockHandle } from './handle.js';
export {
  createLockInspector,
  type InspectedLock,
  type LockHolder,
  type LockInspector,
  type LockInspectorOptions,
  type LockKind,
  type LockListOptions,
  type LockPage,
  type LockWaiter,
} from './inspect.js';
export type { LeaseHandle } from './lease.js';
export { createLock, type DistributedLock } from './lock.js';
export type { MultiLockHandle } from './multi-handle.js';
export type { AcquireOptions, LockOptions, RetryOptions } from './options.js';
export {
  createReadWriteLock,
  type DistributedReadWriteLock,
  type ReadWriteHandle,
  type ReadWriteLockOptions,
  type ReadWriteState,
} from './rw-lock.js';
export {
  createSemaphore,
  type DistributedSemaphore,
  type PermitOptions,
  type SemaphoreOptions,
  type SemaphorePermit,
} from './semaphore.js';
