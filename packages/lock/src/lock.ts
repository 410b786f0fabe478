import {
  ClosedError,
  createKeyspace,
  InvalidArgumentError,
  type RedisConnection,
  toConnection,
} from '@redis-patterns/connection';
import { checkOptions } from '@redis-patterns/connection/internal';
import { exists, forceDelete, lockKeys } from './commands/index.js';
import { LockLostError } from './errors.js';
import { acquireFair } from './fair.js';
import { Grants } from './grants.js';
import type { LockHandle } from './handle.js';
import { MultiLocks } from './multi.js';
import type { MultiLockHandle } from './multi-handle.js';
import { type AcquireOptions, type LockOptions, resolveAcquire, resolveOptions } from './options.js';
import { instrumentLock } from './otel.js';
import { notAcquired } from './waiting.js';
import { runUnderHold } from './with-lease.js';

/**
 * The first attempt, or the signal's reason as soon as it aborts. A grant that arrives after the
 * abort is released, not leaked.
 */
export function untilAborted<H extends { release(): Promise<void> }>(
  attempt: Promise<H | undefined>,
  signal: AbortSignal | undefined,
): Promise<H | undefined> {
  if (signal === undefined) return attempt;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    attempt.then(
      (handle) => {
        signal.removeEventListener('abort', onAbort);
        if (!signal.aborted) return resolve(handle);
        // Cancelled while the attempt flew: a grant nobody will use must not linger (or be extended).
        handle?.release().catch(() => {});
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** A distributed lock over Redis; see {@link createLock}. */
export interface DistributedLock extends AsyncDisposable {
  /**
   * Waits until the lock `name` is free, takes it and returns its handle. Rejects with
   * `TimeoutError` after `acquireTimeoutMs`, with the signal's reason on abort, with `ConnectionError` or
   * `TimeoutError` if Redis fails, and with `InvalidArgumentError` before sending anything.
   */
  acquire(name: string, options?: AcquireOptions): Promise<LockHandle>;
  /** Takes the lock if it is free right now (one round trip); null if someone holds it. */
  tryAcquire(
    name: string,
    options?: Pick<AcquireOptions, 'ttlMs' | 'autoExtend'>,
  ): Promise<LockHandle | null>;
  /**
   * Runs `fn` while holding `name`: acquires, keeps extending while `fn` runs (even if the lock's
   * `autoExtend` is off; pass `autoExtend: false` here to opt out), releases afterwards (also when
   * `fn` throws). `fn` gets the handle's signal, which aborts if the lock is lost.
   * Rejects with {@link LockLostError} if the lock was lost before `fn` finished, even if `fn`
   * resolved: its work was not exclusive. A release that fails only because Redis is unreachable
   * does not fail the call (the lock then expires by its TTL).
   */
  withLock<T>(
    name: string,
    fn: (signal: AbortSignal, handle: LockHandle) => Promise<T> | T,
    options?: AcquireOptions,
  ): Promise<T>;
  /**
   * Waits until every one of `names` is free and takes them all as one hold: all or none, whatever
   * order other callers list their names in (no deadlock; see the README for how and what it
   * costs on Cluster). Each name gets its own fencing token; the hold is extended, signals the
   * loss of any name, and releases them all. Rejects like `acquire()`, and leaves nothing held
   * when it does. Duplicate names are taken once. Not available with `fair` or `durability`
   * (`InvalidArgumentError`).
   *
   * @example
   * ```ts
   * // Move money between two accounts: both rows locked, or neither.
   * await using held = await locks.acquireAll([`account:${from}`, `account:${to}`]);
   * await transfer(from, to, amount, { fence: held.fencingToken(`account:${from}`) });
   * ```
   */
  acquireAll(names: readonly string[], options?: AcquireOptions): Promise<MultiLockHandle>;
  /** Takes every one of `names` if all are free right now; null (and nothing held) otherwise. */
  tryAcquireAll(
    names: readonly string[],
    options?: Pick<AcquireOptions, 'ttlMs' | 'autoExtend'>,
  ): Promise<MultiLockHandle | null>;
  /**
   * Runs `fn` while holding every one of `names`, as `withLock` does for one: acquires all,
   * extends while `fn` runs (unless `autoExtend: false` is passed here), releases all afterwards,
   * also when `fn` throws. Rejects with {@link LockLostError} if a name was lost before `fn` finished.
   */
  withLocks<T>(
    names: readonly string[],
    fn: (signal: AbortSignal, handle: MultiLockHandle) => Promise<T> | T,
    options?: AcquireOptions,
  ): Promise<T>;
  /** True while anyone holds `name`. */
  isLocked(name: string): Promise<boolean>;
  /**
   * Deletes the lock whoever holds it and wakes the waiters (an admin tool: the holder learns of the
   * loss at its next extension or release). True if a lock was deleted. The fencing counter is kept.
   */
  forceRelease(name: string): Promise<boolean>;
  /** Rejects pending `acquire()` calls with `ClosedError` and closes the wake-up subscription. Held handles keep working. */
  close(): Promise<void>;
}

/**
 * Creates a distributed lock. Nothing connects here; the first call does.
 *
 * @example
 * ```ts
 * import { connect, createLock } from '@redis-patterns/lock';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const locks = createLock({ redis, prefix: 'app:lock:', ttlMs: 10_000 });
 *
 * // Runs on one instance at a time; the lock is extended while the job runs.
 * await locks.withLock('nightly-report', async (signal, { fencingToken }) => {
 *   await buildReport({ signal, fencingToken });
 * });
 *
 * {
 *   await using lock = await locks.acquire('invoice:42', { acquireTimeoutMs: 2_000 });
 *   await db.saveInvoice(42, { fencingToken: lock.fencingToken });
 * } // released here
 * ```
 */
export function createLock(options: LockOptions): DistributedLock {
  const settings = resolveOptions(options);
  // Every option is checked before toConnection() may start connecting a client.
  const keyspace = createKeyspace(settings.prefix);
  const conn: RedisConnection = toConnection(options.redis);
  const grants = new Grants(conn, settings);
  const multi = new MultiLocks(conn, settings, keyspace, grants.wakeups);
  // A grant of several names cannot wait for replicas nor join the queues of a fair lock.
  const multiAllowed = () => {
    if (settings.fair)
      throw new InvalidArgumentError(
        'fair',
        'acquireAll() cannot join the FIFO queues of a fair lock; use a lock created without fair: true.',
      );
    if (settings.durability !== undefined) {
      throw new InvalidArgumentError(
        'durability',
        'acquireAll() does not wait for replicas; use a lock created without durability.',
      );
    }
  };
  let closed = false;

  const open = () => {
    if (closed) throw new ClosedError('This lock was closed; create a new one with createLock().');
  };

  const lock: DistributedLock = instrumentLock({
    async acquire(name, acquireOptions) {
      const opts = resolveAcquire(settings, acquireOptions);
      const keys = lockKeys(keyspace, name);
      open();
      const { signal } = opts;
      if (signal?.aborted) throw signal.reason;
      // The wait is bounded from here, the first attempt's round trip included.
      const wait = { ...opts, deadline: performance.now() + opts.timeoutMs };
      if (settings.fair) {
        const handle = await acquireFair(grants, conn, settings, name, keys, wait);
        if (handle === undefined) throw notAcquired(name, 0);
        return handle;
      }
      // Waiters of ours queue for this name already: stand in line behind them (FIFO in a process).
      if (grants.isQueued(name)) return grants.wait(name, keys, wait);
      // Otherwise try at once: the uncontended path, one round trip.
      // Bounded by the command timeout too: an outage is reported as such, not as a long wait.
      const bound =
        opts.timeoutMs === 0 ? undefined : Math.min(opts.timeoutMs, conn.commandTimeoutMs || opts.timeoutMs);
      const first = grants.tryOnce(name, keys, opts, bound);
      const handle = await untilAborted(first, signal);
      if (handle !== undefined) return handle;
      if (opts.timeoutMs === 0 || performance.now() >= wait.deadline) throw notAcquired(name, opts.timeoutMs);
      return grants.wait(name, keys, wait);
    },

    async tryAcquire(name, tryOptions) {
      const opts = resolveAcquire(settings, tryOptions);
      const keys = lockKeys(keyspace, name);
      open();
      if (!settings.fair) return (await grants.tryOnce(name, keys, opts, undefined)) ?? null;
      const once = { ...opts, timeoutMs: 0, deadline: performance.now(), signal: undefined };
      return (await acquireFair(grants, conn, settings, name, keys, once)) ?? null;
    },

    async withLock(name, fn, given) {
      const withOptions = checkOptions(
        'options',
        given,
        '{ signal?, acquireTimeoutMs?, ttlMs?, autoExtend? }',
      );
      if (typeof fn !== 'function') {
        throw new InvalidArgumentError('fn', 'expected a function to run under the lock.');
      }
      // withLock extends while fn runs unless this call says otherwise (the lock's default aside).
      const held = await lock.acquire(name, { ...withOptions, autoExtend: withOptions.autoExtend ?? true });
      return runUnderHold(held, fn);
    },

    async acquireAll(names, acquireOptions) {
      multiAllowed();
      return (await multi.acquire(names, acquireOptions, false)) as MultiLockHandle;
    },

    async tryAcquireAll(names, tryOptions) {
      multiAllowed();
      return (
        (await multi.acquire(names, checkOptions('options', tryOptions, '{ ttlMs?, autoExtend? }'), true)) ??
        null
      );
    },

    async withLocks(names, fn, given) {
      multiAllowed();
      return multi.withLocks(names, fn, given);
    },

    async isLocked(name) {
      return exists(conn, lockKeys(keyspace, name));
    },

    async forceRelease(name) {
      return forceDelete(conn, lockKeys(keyspace, name));
    },

    async close() {
      if (closed) return;
      closed = true;
      multi.close();
      await grants.close();
    },

    [Symbol.asyncDispose]() {
      return lock.close();
    },
  });
  return lock;
}
