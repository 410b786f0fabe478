import type { AlgorithmKind } from './algorithms.js';

/** One limit as advertised in `RateLimit-Policy`: its name, algorithm, size and window. */
export interface Policy {
  /** The policy's name in the RateLimit headers. */
  readonly name: string;
  /** The algorithm enforcing it. */
  readonly algorithm: AlgorithmKind;
  /** Units per window (the burst, for the token bucket). */
  readonly limit: number;
  /** The window in milliseconds (for the token bucket: the time to refill a full burst). */
  readonly windowMs: number;
}

/** The decision of one limit within a call. */
export interface PolicyResult extends Policy {
  /** True when this limit alone would admit the call. */
  allowed: boolean;
  /** Units left after this call (before it, when the call was refused or only peeked). */
  remaining: number;
  /** Milliseconds until this limit is fully restored if nothing else is used. */
  resetMs: number;
  /** Milliseconds until a call of the same cost would fit; 0 when it fits now. */
  retryAfterMs: number;
  /**
   * Milliseconds until at least one more unit is available (`remaining` grows): the next token of
   * the bucket, the oldest entry leaving the log, the window's end for the fixed window. 0 when
   * nothing is used. The `t` of the `RateLimit` header after an admitted call.
   */
  nextUnitMs: number;
}

/** What `limit()` and `peek()` return. */
export interface RateLimitResult {
  /** True when every limit admitted the call (and, for `limit()`, it was charged to all of them). */
  allowed: boolean;
  /** The size of the binding limit: the refusing one, else the one with the fewest units left. */
  limit: number;
  /** The fewest units left across the limits. */
  remaining: number;
  /** Milliseconds until every limit is fully restored if nothing else is used. */
  resetMs: number;
  /** Milliseconds until a call of the same cost would be admitted; 0 when allowed. Never early. */
  retryAfterMs: number;
  /** Each limit's own decision, in the order the limits were given. */
  policies: PolicyResult[];
  /**
   * Set when the identifier is blocked (`blockDurationMs`): milliseconds until the block ends. A
   * blocked call is refused and charged nothing, whatever its limits hold.
   */
  blockedMs?: number;
  /** The Redis server time of the decision, in whole ms since 1970 like `Date.now()` (local time if Redis failed). */
  serverTimeMs: number;
  /**
   * Set when Redis failed (timeout, connection, error reply) and the fail mode decided instead:
   * `allowed` is then true for 'open' and false for 'closed', and the counts are unknown.
   */
  error?: Error;
}

/** `retryAfterMs` of a fail-closed result: Redis is unavailable, so ask callers to come back in a second. */
export const FAIL_CLOSED_RETRY_MS = 1000;

/**
 * Combines per-limit decisions into one result. `serverTimeMs` may carry the script's microseconds;
 * the result floors it, so every path (script reply, local fallback) gives whole milliseconds.
 */
export function combine(policies: PolicyResult[], serverTimeMs: number): RateLimitResult {
  // Binding: the refusing limit that makes callers wait longest, else the one with the fewest units left.
  let binding = policies[0] as PolicyResult;
  let remaining = binding.remaining;
  let resetMs = binding.resetMs;
  for (let i = 1; i < policies.length; i++) {
    const p = policies[i] as PolicyResult;
    if (p.remaining < remaining) remaining = p.remaining;
    if (p.resetMs > resetMs) resetMs = p.resetMs;
    const binds = binding.allowed
      ? !p.allowed || p.remaining < binding.remaining
      : !p.allowed && p.retryAfterMs > binding.retryAfterMs;
    if (binds) binding = p;
  }
  const allowed = binding.allowed;
  return {
    allowed,
    limit: binding.limit,
    remaining,
    resetMs,
    retryAfterMs: allowed ? 0 : binding.retryAfterMs,
    policies,
    serverTimeMs: Math.floor(serverTimeMs),
  };
}

/** The result the fail mode gives when Redis could not decide. */
export function failed(policies: readonly Policy[], open: boolean, error: Error): RateLimitResult {
  const decided = policies.map((p) => ({
    ...p,
    allowed: open,
    remaining: open ? p.limit : 0,
    resetMs: 0,
    retryAfterMs: open ? 0 : FAIL_CLOSED_RETRY_MS,
    nextUnitMs: 0,
  }));
  return { ...combine(decided, Date.now()), error };
}
