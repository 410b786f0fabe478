import { InvalidArgumentError } from '@redis-patterns/connection';
import { checkOptions } from '@redis-patterns/connection/internal';
import { LockLostError } from './errors.js';
import type { LeaseHandle } from './lease.js';

/**
 * `withPermit` / `withReadLock` / `withWriteLock`, as `withLock` does it: acquires (extending while
 * `fn` runs unless the call says `autoExtend: false`), runs `fn`, releases also when `fn` throws.
 * Rejects with {@link LockLostError} if the grant was lost before `fn` finished: its work was not
 * protected. A release that fails only because Redis is unreachable does not fail the call.
 */
export async function runWithLease<H extends LeaseHandle, O extends { autoExtend?: boolean }, T>(
  fn: (signal: AbortSignal, handle: H) => Promise<T> | T,
  given: O | undefined,
  acquire: (options: O) => Promise<H>,
): Promise<T> {
  const options = checkOptions('options', given, 'an options object');
  if (typeof fn !== 'function')
    throw new InvalidArgumentError('fn', 'expected a function to run under the grant.');
  return runUnderHold(await acquire({ ...options, autoExtend: options.autoExtend ?? true }), fn);
}

/** A grant of any kind as `runUnderHold` uses it: a lock, a permit, a read/write grant, a hold of several names. */
interface Hold {
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

/**
 * Runs `fn` under a grant already held, then releases it, also when `fn` throws. Rejects with
 * {@link LockLostError} if the grant was lost before `fn` finished (e.g. unconfirmed: Redis
 * unreachable past the TTL), since `fn`'s work was then not exclusive. A release that fails only
 * because Redis is unreachable does not fail the call: the grant is given back in the background
 * or expires by its TTL.
 */
export async function runUnderHold<H extends Hold, T>(
  handle: H,
  fn: (signal: AbortSignal, handle: H) => Promise<T> | T,
): Promise<T> {
  let result: T;
  try {
    result = await fn(handle.signal, handle);
  } catch (err) {
    await handle.release().catch(() => {});
    throw err;
  }
  const lostDuringFn = handle.signal.aborted;
  try {
    await handle.release();
  } catch (err) {
    if (err instanceof LockLostError) throw err;
    if (lostDuringFn) throw handle.signal.reason;
  }
  return result;
}
