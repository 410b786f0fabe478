import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  TimeoutError as RedisTimeoutError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  WatchError,
} from 'redis';

/** Stable codes carried by every error this project throws. */
export type RedisPatternsErrorCode =
  | 'ERR_CONNECTION'
  | 'ERR_TIMEOUT'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_OWNERSHIP_LOST'
  | 'ERR_CLOSED'
  | 'ERR_JOB_CANCELLED'
  | 'ERR_JOB_TIMEOUT'
  | 'ERR_JOB_FAILED';

/**
 * Base class of every error thrown by `@redis-patterns/*`. Check `code` (stable) rather than the
 * message, and read `cause` for the underlying node-redis or socket error.
 *
 * @example
 * ```ts
 * try { await lock.acquire('report') }
 * catch (err) { if (err instanceof RedisPatternsError && err.code === 'ERR_TIMEOUT') retryLater() }
 * ```
 */
export class RedisPatternsError extends Error {
  /** Stable machine-readable kind of failure. */
  readonly code: RedisPatternsErrorCode;

  constructor(code: RedisPatternsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisPatternsError';
    this.code = code;
  }
}

/** Redis could not be reached, or the connection dropped while a command was in flight. */
export class ConnectionError extends RedisPatternsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONNECTION', message, options);
    this.name = 'ConnectionError';
  }
}

/** A command, a connect or a wait for a pooled connection took longer than its configured bound. */
export class TimeoutError extends RedisPatternsError {
  /** The bound that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super('ERR_TIMEOUT', message, options);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** An option or argument is invalid; thrown before anything is sent to Redis. */
export class InvalidArgumentError extends RedisPatternsError {
  /** The option or argument at fault, e.g. `ttlMs` or `url`. */
  readonly argument: string;

  constructor(argument: string, message: string) {
    super('ERR_INVALID_ARGUMENT', `${argument}: ${message}`);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}

/** Something this process held (a lock, a job lease) now belongs to someone else or expired. */
export class OwnershipLostError extends RedisPatternsError {
  /** The Redis key whose ownership was lost. */
  readonly key: string;

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('ERR_OWNERSHIP_LOST', message, options);
    this.name = 'OwnershipLostError';
    this.key = key;
  }
}

/** The connection was closed by this process; create a new one. */
export class ClosedError extends RedisPatternsError {
  constructor(message = 'The Redis connection was closed by this process; create a new connection.') {
    super('ERR_CLOSED', message);
    this.name = 'ClosedError';
  }
}

// node-redis 6's error classes do not set `name` (it stays "Error"), so match by class.
const connectionErrorClasses = [
  ClientClosedError,
  ClientOfflineError,
  DisconnectsClientError,
  SocketClosedUnexpectedlyError,
  ConnectionTimeoutError,
  SocketTimeoutError,
  RootNodesUnavailableError,
  ReconnectStrategyError,
];
const socketErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * Replies with which a node refuses a command it did not run, while a Cluster or Sentinel fails
 * over (CLUSTERDOWN, TRYAGAIN, MASTERDOWN, READONLY from a demoted master), while it loads its data
 * (LOADING), or when a transaction pinned to one node meets a slot that moved (MOVED, ASK).
 */
const refusedReply = /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|LOADING|MOVED|ASK) /;

/**
 * Maps node-redis and socket failures, and the replies of a node that is failing over or loading,
 * to {@link ConnectionError}; other Redis error replies (WRONGTYPE, NOSCRIPT, ...) and errors
 * already typed here pass through unchanged.
 */
export function toPatternsError(err: unknown, what: string): unknown {
  if (err instanceof RedisPatternsError || !(err instanceof Error)) return err;
  if (refusedReply.test(err.message)) {
    return new ConnectionError(
      `${what} was refused and not applied: ${err.message}. Redis is failing over, resharding or loading its data; retry shortly.`,
      { cause: err },
    );
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (
    connectionErrorClasses.some((type) => err instanceof type) ||
    (code !== undefined && socketErrorCodes.has(code))
  ) {
    return new ConnectionError(`${what} failed: Redis is unreachable (${err.message}).`, { cause: err });
  }
  if (err instanceof RedisTimeoutError || err instanceof AbortError) {
    return new TimeoutError(`${what} timed out in node-redis (${err.message}).`, 0, { cause: err });
  }
  return err;
}

/**
 * True when EXEC was aborted because a WATCHed key changed (node-redis's `WatchError`, whose
 * `name` is just "Error"): retry the read-modify-write.
 */
export function isWatchError(err: unknown): boolean {
  return err instanceof WatchError;
}
