import { InvalidArgumentError, type RedisLike } from '@redis-patterns/connection';
import { checkDuration, checkInteger, checkOptions, checkRenamed } from '@redis-patterns/connection/internal';
import type { Durability } from './commands/index.js';

/** How `acquire()` waits for a lock someone else holds. Durations are milliseconds. */
export interface RetryOptions {
  /** How long `acquire()` waits in total before it rejects with `TimeoutError`; 0 tries once. @default 10_000 */
  acquireTimeoutMs?: number;
  /**
   * Fallback poll interval while waiting. Waiters are woken when the lock is released, so this only
   * bounds what a lost wake-up (or a holder that died without releasing) costs. @default 200
   */
  delayMs?: number;
  /** Random extra time (0 to this) added to every poll, so processes do not poll in step. @default 50 */
  jitterMs?: number;
}

/** Options of {@link createLock}. */
export interface LockOptions {
  /** A connection from `connect()` of `@redis-patterns/connection`, or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** Prefix of every key this lock writes: `<prefix>{<name>}` and `<prefix>{<name>}:fence`. @default 'lock:' */
  prefix?: string;
  /** Lifetime of a grant in Redis; a holder that dies frees the lock after at most this long. @default 30_000 */
  ttlMs?: number;
  /** How `acquire()` waits. @default { acquireTimeoutMs: 10_000, delayMs: 200, jitterMs: 50 } */
  retry?: RetryOptions;
  /**
   * Extend held locks in the background every `ttlMs / 3` until they are released, and abort
   * `handle.signal` if an extension finds the lock lost. @default true
   */
  autoExtend?: boolean;
  /**
   * Strict first-come, first-served order across processes: each `acquire()` joins a queue in Redis
   * and the lock goes to the oldest caller still waiting. Costs a few more commands per wait and no
   * local hand-overs (see the README for the throughput). Without it, a process hands the lock to its
   * own waiters only while no other process waits, and yields to the others when they do.
   * @default false
   */
  fair?: boolean;
  /**
   * Count a grant (and an extension) only once this many replicas have it: `WAIT` after the write,
   * on the same connection. Protects against a failover to a replica that missed the grant, at the
   * cost of a replica round trip per grant; local hand-overs are off.
   * @default none (a grant counts once the master has it)
   */
  durability?: {
    /** Replicas that must acknowledge the write. @default 1 */
    replicas?: number;
    /** How long to wait for them; a grant that did not reach them is given back. @default 1_000 */
    timeoutMs?: number;
  };
}

/** Per-call options of `acquire()` and `withLock()`. */
export interface AcquireOptions {
  /** Cancels the wait: `acquire()` rejects with the signal's reason (an `AbortError` by default). @default none */
  signal?: AbortSignal;
  /** Overrides `retry.acquireTimeoutMs` for this call. @default the lock's `retry.acquireTimeoutMs` */
  acquireTimeoutMs?: number;
  /** Overrides `ttlMs` for this grant. @default the lock's `ttlMs` */
  ttlMs?: number;
  /** Overrides `autoExtend` for this grant. @default the lock's `autoExtend` */
  autoExtend?: boolean;
}

/** Options after defaults, as the rest of the package reads them. */
export interface ResolvedOptions {
  prefix: string;
  ttlMs: number;
  timeoutMs: number;
  delayMs: number;
  jitterMs: number;
  autoExtend: boolean;
  fair: boolean;
  durability: Durability | undefined;
  /** How long a waiting process's mark lasts without being renewed (its attempts renew it). */
  markMs: number;
}

/** Node timers fire at once (with a warning) beyond this; a longer duration is always a mistake here. */
const MAX_TIMER_MS = 2_147_483_647;

/** Validates a duration and rounds it up to whole milliseconds (PX takes integers). */
export function checkMs(name: string, value: number | undefined, allowZero = false): number | undefined {
  checkDuration(name, value, { allowZero });
  if (value === undefined) return undefined;
  if (value > MAX_TIMER_MS) {
    throw new InvalidArgumentError(name, `expected at most ${MAX_TIMER_MS} ms, got ${value}.`);
  }
  return Math.ceil(value);
}

function checkBoolean(name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(name, `expected true or false, got ${typeof value}.`);
  }
  return value;
}

/** Applies the defaults, in one place, after validating every field. */
/**
 * Checks the options of a semaphore or read/write lock before they are read: present, and
 * without `fair` or `durability`, which `what` does not support.
 */
export function checkLeaseOptions(options: object | undefined, what: string): void {
  if (options === undefined)
    throw new InvalidArgumentError('options', 'expected an object with at least { redis }.');
  const given = checkOptions('options', options, 'an object with at least { redis }') as Record<
    string,
    unknown
  >;
  for (const option of ['fair', 'durability'])
    if (given[option] !== undefined) throw new InvalidArgumentError(option, `is not supported by ${what}.`);
}

export function resolveOptions(options: LockOptions): ResolvedOptions {
  if (options === undefined)
    throw new InvalidArgumentError('options', 'expected an object with at least { redis }.');
  checkOptions('options', options, 'an object with at least { redis }');
  const retry = checkOptions('retry', options.retry, '{ acquireTimeoutMs?, delayMs?, jitterMs? }');
  checkRenamed(retry, { timeoutMs: 'acquireTimeoutMs' }, 'retry.');
  const delayMs = checkMs('retry.delayMs', retry.delayMs) ?? 200;
  const jitterMs = checkMs('retry.jitterMs', retry.jitterMs, true) ?? 50;
  return {
    prefix: options.prefix ?? 'lock:',
    ttlMs: checkMs('ttlMs', options.ttlMs) ?? 30_000,
    timeoutMs: checkMs('retry.acquireTimeoutMs', retry.acquireTimeoutMs, true) ?? 10_000,
    delayMs,
    jitterMs,
    autoExtend: checkBoolean('autoExtend', options.autoExtend) ?? true,
    fair: checkBoolean('fair', options.fair) ?? false,
    durability: resolveDurability(options.durability),
    // Waiters renew their mark at least every poll; three polls of slack, and never under 500 ms.
    markMs: Math.max(500, 3 * (delayMs + jitterMs)),
  };
}

function resolveDurability(value: LockOptions['durability']): Durability | undefined {
  if (value === undefined) return undefined;
  const durability = checkOptions('durability', value, '{ replicas?, timeoutMs? }');
  checkInteger('durability.replicas', durability.replicas, 1);
  return {
    replicas: durability.replicas ?? 1,
    timeoutMs: checkMs('durability.timeoutMs', durability.timeoutMs) ?? 1_000,
  };
}

/** Validates per-call options and merges them over the lock's. */
export function resolveAcquire(defaults: ResolvedOptions, given?: AcquireOptions) {
  const options = checkOptions('options', given, '{ signal?, acquireTimeoutMs?, ttlMs?, autoExtend? }');
  checkRenamed(options, { timeoutMs: 'acquireTimeoutMs' });
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', 'expected an AbortSignal.');
  }
  return {
    signal,
    timeoutMs: checkMs('acquireTimeoutMs', options.acquireTimeoutMs, true) ?? defaults.timeoutMs,
    ttlMs: checkMs('ttlMs', options.ttlMs) ?? defaults.ttlMs,
    autoExtend: checkBoolean('autoExtend', options.autoExtend) ?? defaults.autoExtend,
  };
}
