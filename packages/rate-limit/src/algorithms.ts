import { InvalidArgumentError } from '@redis-patterns/connection';
import { checkInteger } from '@redis-patterns/connection/internal';

/**
 * The scripts count time in microseconds since this epoch (2020-01-01T00:00:00Z) rather than since
 * 1970: the smaller numbers keep a double's resolution near 0.03 µs, so GCRA arrival times that add
 * a fractional emission interval again and again stay exact to well under a microsecond. It is a
 * whole number of days, so counter windows that divide a day start on UTC boundaries.
 *
 * The Lua has it as a literal (src/lua/lib/clock.lua, and in ms in lib/expires-at.lua); a test
 * checks that they agree.
 */
export const EPOCH_SECONDS = 1_577_836_800;

/** The four algorithms; each is one Lua call on the Redis server's clock. */
export type AlgorithmKind = 'slidingWindowLog' | 'slidingWindowCounter' | 'fixedWindow' | 'tokenBucket';

/**
 * A rate-limit algorithm with its parameters, made by {@link slidingWindowLog},
 * {@link slidingWindowCounter}, {@link fixedWindow} or {@link tokenBucket}. Immutable.
 */
export interface Algorithm {
  /** Which algorithm this is. */
  readonly kind: AlgorithmKind;
  /** Most units a caller may use at once: the window's limit, or the bucket's burst. */
  readonly limit: number;
  /** The window in milliseconds; for the token bucket, the time to refill a full burst. */
  readonly windowMs: number;
}

/** What the Lua script needs for one limit: a code letter and two numbers (microseconds where a time). */
export interface AlgorithmArgs {
  code: 'L' | 'C' | 'F' | 'G';
  a: number;
  b: number;
  /** The key suffix, so two algorithms sharing a prefix never read each other's state. */
  suffix: string;
}

const scriptArgs = new WeakMap<Algorithm, AlgorithmArgs>();

/** The script arguments of an algorithm made by this package; throws for anything else. */
export function argsOf(algorithm: unknown): AlgorithmArgs {
  const args =
    typeof algorithm === 'object' && algorithm !== null ? scriptArgs.get(algorithm as Algorithm) : undefined;
  if (args === undefined) {
    throw new InvalidArgumentError(
      'algorithm',
      'expected slidingWindowLog(), slidingWindowCounter(), fixedWindow() or tokenBucket() from @redis-patterns/rate-limit.',
    );
  }
  return args;
}

function make(kind: AlgorithmKind, limit: number, windowMs: number, args: AlgorithmArgs, extra = {}) {
  const algorithm = Object.freeze({ kind, limit, windowMs, ...extra });
  scriptArgs.set(algorithm, args);
  return algorithm;
}

/** Options of the window algorithms. */
export interface WindowOptions {
  /** Units allowed per window (a whole number >= 1); required. */
  limit: number;
  /** The window in milliseconds (a whole number >= 1); required. */
  windowMs: number;
}

function checkWindow(options: WindowOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'expected { limit, windowMs }.');
  }
  checkInteger('limit', options.limit, 1);
  checkInteger('windowMs', options.windowMs, 1);
  if (options.windowMs > MAX_WINDOW_MS) {
    throw new InvalidArgumentError('windowMs', `is longer than a year (${MAX_WINDOW_MS} ms).`);
  }
}

const MAX_WINDOW_MS = 366 * 24 * 3600 * 1000;

/** Largest sliding-log limit: one list entry per unit, so memory and the cost of one call grow with it. */
export const MAX_LOG_LIMIT = 100_000;

/**
 * Exact sliding window: at most `limit` units in any `windowMs`, counted from the server's clock.
 * One list entry per unit used; refused calls are not recorded. Memory grows with `limit`,
 * which is at most 100,000.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ redis, algorithm: slidingWindowLog({ limit: 100, windowMs: 60_000 }) });
 * ```
 */
export function slidingWindowLog(options: WindowOptions): Algorithm {
  checkWindow(options);
  const { limit, windowMs } = options;
  if (limit > MAX_LOG_LIMIT) {
    throw new InvalidArgumentError(
      'limit',
      `${limit} entries per identifier is too many for a log (about 10 bytes each, and a call of that cost holds Redis while it records them); above ${MAX_LOG_LIMIT} use slidingWindowCounter.`,
    );
  }
  return make('slidingWindowLog', limit, windowMs, {
    code: 'L',
    a: limit,
    b: windowMs * 1000,
    suffix: 'loglist',
  });
}

/**
 * Sliding-window counter: the current fixed window's count plus the previous window's count weighted
 * by how much of it the sliding window still covers. One small value per key (O(1) memory). It never
 * admits more than `limit` in an epoch-aligned window, and at most `limit × (1 + f)` in a sliding
 * window, where f is the share of the current window elapsed (worst case just under 2 × `limit`
 * when the previous window was used up in its last moments).
 */
export function slidingWindowCounter(options: WindowOptions): Algorithm {
  checkWindow(options);
  const { limit, windowMs } = options;
  return make('slidingWindowCounter', limit, windowMs, {
    code: 'C',
    a: limit,
    b: windowMs * 1000,
    suffix: 'counter',
  });
}

/**
 * Fixed window anchored at the caller's first admitted call: at most `limit` units until
 * `windowMs` later, then a fresh window. Windows of different callers do not reset together.
 */
export function fixedWindow(options: WindowOptions): Algorithm {
  checkWindow(options);
  const { limit, windowMs } = options;
  return make('fixedWindow', limit, windowMs, { code: 'F', a: limit, b: windowMs * 1000, suffix: 'fixed' });
}

/** Options of {@link tokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second (finite, > 0, at most 1,000,000); required. */
  ratePerSec: number;
  /** Bucket size: the most units usable at once (a whole number >= 1); required. */
  burst: number;
}

/** A token bucket; `limit` is its burst and `windowMs` the time to refill it from empty. */
export interface TokenBucket extends Algorithm {
  /** Always 'tokenBucket'. */
  readonly kind: 'tokenBucket';
  /** Tokens added per second. */
  readonly ratePerSec: number;
}

/**
 * Token bucket as GCRA: one number per key (the theoretical arrival time), `burst` units at once,
 * refilled continuously at `ratePerSec`. Refused calls take nothing.
 */
export function tokenBucket(options: TokenBucketOptions): TokenBucket {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'expected { ratePerSec, burst }.');
  }
  const { ratePerSec, burst } = options;
  if (typeof ratePerSec !== 'number' || !Number.isFinite(ratePerSec) || ratePerSec <= 0 || ratePerSec > 1e6) {
    throw new InvalidArgumentError(
      'ratePerSec',
      `expected a finite number > 0 and <= 1000000, got ${String(ratePerSec)}.`,
    );
  }
  checkInteger('burst', burst, 1);
  const intervalUs = 1e6 / ratePerSec;
  const windowMs = Math.ceil((burst * intervalUs) / 1000);
  if (windowMs > MAX_WINDOW_MS * 10) {
    throw new InvalidArgumentError('ratePerSec', 'refilling the burst would take more than ten years.');
  }
  return make(
    'tokenBucket',
    burst,
    windowMs,
    { code: 'G', a: burst, b: intervalUs, suffix: 'gcra' },
    {
      ratePerSec,
    },
  ) as TokenBucket;
}
