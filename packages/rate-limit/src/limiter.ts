import {
  createKeyspace,
  InvalidArgumentError,
  type RedisLike,
  toConnection,
} from '@redis-patterns/connection';
import { checkDuration, checkInteger, checkOptions, checkRenamed } from '@redis-patterns/connection/internal';
import { type Algorithm, argsOf } from './algorithms.js';
import type { LocalBlockCacheOptions } from './block-cache.js';
import { buildLimiter, type LimiterState, stateOf } from './decide.js';
import type { Policy, RateLimitResult } from './result.js';

/** What happens when Redis cannot answer within `commandTimeoutMs`: admit the call, or refuse it. */
export type FailMode = 'open' | 'closed';

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** A connection from `connect()`, or a node-redis client, cluster or sentinel; required. */
  redis: RedisLike;
  /** The algorithm and its parameters, e.g. `slidingWindowLog({ limit: 100, windowMs: 60_000 })`; required. */
  algorithm: Algorithm;
  /** Key prefix, without `{` or `}`; give every limiter its own. @default 'rl:' */
  prefix?: string;
  /** The policy's name in the RateLimit headers (printable ASCII, at most 64 characters). @default 'default' */
  name?: string;
  /** Admit ('open') or refuse ('closed') calls when Redis fails or is slower than `commandTimeoutMs`. @default 'open' */
  failMode?: FailMode;
  /** The longest `limit()` waits for Redis before the fail mode decides. @default 500 */
  commandTimeoutMs?: number;
  /**
   * Block an identifier for this long once a call of it is refused: every call is refused (and
   * charged nothing) until the block ends, whatever its limits hold. Set in the same script call
   * as the refusal. 0 for no blocks. @default 0
   */
  blockDurationMs?: number;
  /**
   * Remember blocked identifiers in this process, so a blocked caller's calls cost no round trip
   * until its block ends (on Redis's clock, reached up to one reply's travel time later here, never
   * earlier). Needs `blockDurationMs`. A `reset()` elsewhere does not lift a block remembered here.
   * @default false
   */
  localBlockCache?: boolean | LocalBlockCacheOptions;
}

/** Options of one call. */
export interface LimitOptions {
  /** Units this call uses (a whole number from 1 to the smallest limit). @default 1 */
  cost?: number;
  /**
   * This call's limit (the bucket's burst), e.g. from the caller's plan: a whole number, or for a
   * limiter from `all()` an array with one per limiter. The state stored for the identifier is kept:
   * a caller moving to another limit keeps what it has used. @default the algorithm's limit
   */
  limit?: number | readonly number[];
}

/** Options of {@link RateLimiter.penalty}, {@link RateLimiter.reward} and {@link RateLimiter.refund}. */
export interface AdjustOptions {
  /** The limit the returned result is decided against, as in {@link LimitOptions.limit}. @default the algorithm's limit */
  limit?: number | readonly number[];
}

/** Options of {@link RateLimiter.refund}. */
export interface RefundOptions extends AdjustOptions {
  /**
   * The result of the `limit()` call being refunded. The refund then gives back only what that
   * call was charged in the window it was charged to: nothing once that window has passed (fixed
   * window, sliding counter) or its log entries have expired, so a late refund never raises a
   * later window's quota; the log drops that call's own entries. Without it, a refund is a
   * `reward`. The token bucket gives back the units either way.
   * @default undefined
   */
  charge?: RateLimitResult;
}

/** Options of {@link all}. */
export interface AllOptions {
  /** Fail mode of the combined check. @default 'closed' if any limiter fails closed, else 'open' */
  failMode?: FailMode;
  /** Bound of the combined check. @default the smallest of the limiters' commandTimeoutMs */
  commandTimeoutMs?: number;
  /**
   * Block an identifier for this long once the combined check refuses it (the limiters' own
   * `blockDurationMs` applies to their own calls only); the block key is the first limiter's.
   * @default 0
   */
  blockDurationMs?: number;
  /** As {@link RateLimiterOptions.localBlockCache}, for the combined check. @default false */
  localBlockCache?: boolean | LocalBlockCacheOptions;
}

/** A rate limiter: one limit from {@link createRateLimiter}, or several checked together by {@link all}. */
export interface RateLimiter {
  /** The limits this limiter checks, in order. */
  readonly policies: readonly Policy[];
  /**
   * Charges `cost` units to `identifier` if every limit admits them, in one atomic round trip;
   * a refused call is charged nothing. Never rejects for Redis failures: the fail mode decides.
   * Rejects with `InvalidArgumentError` for a bad identifier or cost, before anything is sent, and
   * with `ClosedError` after `close()`.
   */
  limit(identifier: string, options?: LimitOptions): Promise<RateLimitResult>;
  /** Reports whether a call of `cost` would be admitted now, without charging anything. Rejects on Redis failures. */
  peek(identifier: string, options?: LimitOptions): Promise<RateLimitResult>;
  /**
   * Adds `points` units (1 to 1,000,000) to the identifier's count under every limit, without a
   * check: it may go above the limit, and calls are then refused until enough has expired. Does not
   * block by itself (the next refused call does). Resolves to a peek of cost 1 after it; rejects on
   * Redis failures.
   *
   * @example
   * ```ts
   * if (!passwordMatches) await loginLimiter.penalty(username, 5);
   * ```
   */
  penalty(identifier: string, points: number, options?: AdjustOptions): Promise<RateLimitResult>;
  /**
   * Gives back `points` units (1 to 1,000,000) under every limit, never below zero (the log drops
   * its newest entries). Does not lift a block. Resolves to a peek of cost 1 after it.
   */
  reward(identifier: string, points: number, options?: AdjustOptions): Promise<RateLimitResult>;
  /**
   * Gives back the cost of an admitted call that should not count after all (it failed, say). Pass
   * the call's result as `charge` so that the refund goes to the window it was charged to (see
   * {@link RefundOptions.charge}); without it, the same as `reward(identifier, cost)`. Call it only
   * for a call that was charged.
   *
   * @example
   * ```ts
   * const result = await limiter.limit(userId, { cost: 3 });
   * if (result.allowed && !(await doWork())) await limiter.refund(userId, 3, { charge: result });
   * ```
   */
  refund(identifier: string, cost?: number, options?: RefundOptions): Promise<RateLimitResult>;
  /** Forgets everything recorded for `identifier` under every limit, its block included. */
  reset(identifier: string): Promise<void>;
  /**
   * Refuses later calls with `ClosedError`; calls already made finish on their own. The connection
   * stays open (close it yourself), and limiters combined by {@link all} are closed one by one.
   */
  close(): Promise<void>;
  /** Same as {@link RateLimiter.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a rate limiter. Synchronous: nothing is sent to Redis until the first call.
 *
 * @example
 * ```ts
 * import { connect, createRateLimiter, slidingWindowLog } from '@redis-patterns/rate-limit';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const perMinute = createRateLimiter({
 *   redis,
 *   prefix: 'api:min:',
 *   algorithm: slidingWindowLog({ limit: 100, windowMs: 60_000 }),
 * });
 * const { allowed, remaining, retryAfterMs } = await perMinute.limit('user-42');
 * ```
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (options === undefined) throw new InvalidArgumentError('options', 'expected { redis, algorithm, ... }.');
  checkOptions('options', options, '{ redis, algorithm, ... }');
  checkRenamed(options, { timeoutMs: 'commandTimeoutMs' });
  const args = argsOf(options.algorithm);
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || !/^[\x20-\x7e]{1,64}$/.test(name)) {
    throw new InvalidArgumentError('name', 'expected 1-64 printable ASCII characters.');
  }
  // Every option is checked before toConnection() may start connecting a client.
  const keyspace = createKeyspace(options.prefix ?? 'rl:');
  const failMode = checkFailMode(options.failMode ?? 'open');
  const timeoutMs = checkTimeout(options.commandTimeoutMs ?? 500);
  const conn = toConnection(options.redis);
  const { kind, limit, windowMs } = options.algorithm;
  return buildLimiter({
    conn,
    parts: [{ keyspace, args, policy: Object.freeze({ name, algorithm: kind, limit, windowMs }) }],
    failMode,
    timeoutMs,
    ...blocking(options),
  });
}

/**
 * Checks several limits of one identifier together (e.g. per second and per hour): a call is
 * admitted only if every limit admits it, and when one refuses nothing is charged to the others.
 * One script sees all of them, because every limiter's keys for an identifier share its hash tag.
 * The limiters must use the same connection, distinct names, and not share a prefix and algorithm.
 *
 * @example
 * ```ts
 * const api = all([perSecond, perHour]);
 * const result = await api.limit(apiKey, { cost: 1 });
 * ```
 */
export function all(limiters: readonly RateLimiter[], given?: AllOptions): RateLimiter {
  const options = checkOptions('options', given, '{ failMode?, commandTimeoutMs? }');
  checkRenamed(options, { timeoutMs: 'commandTimeoutMs' });
  if (!Array.isArray(limiters) || limiters.length === 0) {
    throw new InvalidArgumentError('limiters', 'expected a non-empty array of rate limiters.');
  }
  const inner = limiters.map((l) => {
    const found = stateOf(l);
    if (found === undefined)
      throw new InvalidArgumentError('limiters', 'expected limiters from createRateLimiter().');
    return found;
  });
  const first = inner[0] as LimiterState;
  if (inner.some((i) => i.conn !== first.conn)) {
    throw new InvalidArgumentError('limiters', 'all limiters must use the same Redis connection.');
  }
  const parts = inner.flatMap((i) => i.parts);
  const names = new Set(parts.map((p) => p.policy.name));
  const keys = new Set(parts.map((p) => p.keyspace.key('x', p.args.suffix)));
  if (names.size < parts.length) {
    throw new InvalidArgumentError(
      'limiters',
      'give each limiter a distinct name: it names the policy in RateLimit headers.',
    );
  }
  if (keys.size < parts.length) {
    throw new InvalidArgumentError(
      'limiters',
      'two limiters with the same algorithm share a prefix, so they would share counters.',
    );
  }
  return buildLimiter({
    conn: first.conn,
    parts,
    failMode: checkFailMode(
      options.failMode ?? (inner.some((i) => i.failMode === 'closed') ? 'closed' : 'open'),
    ),
    timeoutMs: checkTimeout(options.commandTimeoutMs ?? Math.min(...inner.map((i) => i.timeoutMs))),
    ...blocking(options),
  });
}

/** The block options, checked: the block in ms (0 for none) and the local cache's size (0 for none). */
function blocking(options: {
  blockDurationMs?: number;
  localBlockCache?: boolean | LocalBlockCacheOptions;
}): { blockMs: number; blockCacheEntries: number } {
  const blockMs = options.blockDurationMs ?? 0;
  checkDuration('blockDurationMs', blockMs, { allowZero: true });
  if (blockMs > MAX_BLOCK_MS) throw new InvalidArgumentError('blockDurationMs', 'is longer than a year.');
  const cache = options.localBlockCache ?? false;
  if (cache === false) return { blockMs, blockCacheEntries: 0 };
  if (cache !== true) checkOptions('localBlockCache', cache, 'true, false or { maxEntries? }');
  const entries = cache === true ? 10_000 : (cache.maxEntries ?? 10_000);
  checkInteger('localBlockCache.maxEntries', entries, 1);
  if (blockMs === 0) {
    throw new InvalidArgumentError('localBlockCache', 'caches blocks: set blockDurationMs too.');
  }
  return { blockMs, blockCacheEntries: entries };
}

const MAX_BLOCK_MS = 366 * 24 * 3600 * 1000;

function checkFailMode(mode: unknown): FailMode {
  if (mode !== 'open' && mode !== 'closed') {
    throw new InvalidArgumentError('failMode', `expected 'open' or 'closed', got ${String(mode)}.`);
  }
  return mode;
}

function checkTimeout(timeoutMs: number): number {
  checkDuration('commandTimeoutMs', timeoutMs);
  return timeoutMs;
}
