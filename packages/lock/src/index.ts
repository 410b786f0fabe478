export { type LockLossReason, LockLostError } from './errors.js';
export type { LockHandle } from './handle.js';
export { createLock, type DistributedLock } from './lock.js';
export type { AcquireOptions, LockOptions, RetryOptions } from './options.js';
