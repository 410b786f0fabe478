import { InvalidArgumentError } from '@redis-patterns/connection';
import { checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import { type AlgorithmArgs, MAX_LOG_LIMIT } from './algorithms.js';
import type { Policy } from './result.js';

/** One limit of a limiter as the per-call checks see it: its script numbers and its policy. */
export interface CallLimit {
  args: AlgorithmArgs;
  policy: Policy;
}

/** What one call asks for, validated: its cost, and the size of each limit for this call. */
export interface CallPlan {
  cost: number;
  /** Each limit's size for this call (the window's limit, the bucket's burst), in order. */
  limits: readonly number[];
  /** True when `limits` are the configured ones. */
  configured: boolean;
  /** The policies this call is decided against (the configured ones, or resized copies). */
  policies: readonly Policy[];
}

/** Largest per-call limit of the window algorithms and the bucket; the log's is MAX_LOG_LIMIT. */
const MAX_CALL_LIMIT = 1_000_000_000;

/** The options of a call that chooses its own limits, e.g. `limit(id, { limit: 500, cost: 2 })`. */
export interface CallOptions {
  cost?: number | undefined;
  limit?: number | readonly number[] | undefined;
}

/**
 * Validates a call's options against the limiter's limits, before anything is sent: `cost` a whole
 * number from 1 to the smallest limit of the call, `limit` a whole number (one limit) or one per
 * limit (several, from `all()`).
 */
export function planCall(
  limits: readonly CallLimit[],
  configured: CallPlan,
  options: CallOptions | undefined,
  what = '{ cost?, limit? }',
): CallPlan {
  if (options === undefined) return configured;
  if (options === null || typeof options !== 'object') checkOptions('options', options, what);
  const cost = options.cost === undefined ? 1 : options.cost;
  checkInteger('cost', cost, 1);
  let plan = configured;
  if (options.limit !== undefined) plan = resized(limits, options.limit);
  const smallest = Math.min(...plan.limits);
  if (cost > smallest) {
    throw new InvalidArgumentError(
      'cost',
      `${cost} exceeds the limit of ${smallest}, so it could never be admitted.`,
    );
  }
  return cost === plan.cost ? plan : { ...plan, cost };
}

/** The plan of a call that takes the configured limits at cost 1. */
export function configuredPlan(limits: readonly CallLimit[]): CallPlan {
  return {
    cost: 1,
    limits: limits.map((l) => l.args.a),
    configured: true,
    policies: Object.freeze(limits.map((l) => l.policy)),
  };
}

function resized(limits: readonly CallLimit[], given: number | readonly number[]): CallPlan {
  const sizes = typeof given === 'number' ? [given] : given;
  if (!Array.isArray(sizes) || sizes.length !== limits.length) {
    throw new InvalidArgumentError(
      'limit',
      limits.length === 1
        ? 'expected a whole number >= 1.'
        : `expected an array of ${limits.length} whole numbers, one per limiter given to all().`,
    );
  }
  const policies = limits.map(({ args, policy }, i) => {
    const size = sizes[i] as number;
    checkInteger('limit', size, 1);
    const max = args.code === 'L' ? MAX_LOG_LIMIT : MAX_CALL_LIMIT;
    if (size > max) throw new InvalidArgumentError('limit', `${size} is above the largest limit, ${max}.`);
    if (size === policy.limit) return policy;
    // The bucket's window is the time to refill its burst: it grows with the burst at the same rate.
    const windowMs = args.code === 'G' ? Math.ceil((size * args.b) / 1000) : policy.windowMs;
    return Object.freeze({ ...policy, limit: size, windowMs });
  });
  const configured = policies.every((p, i) => p === limits[i]?.policy);
  return {
    cost: 1,
    limits: sizes.slice(),
    configured,
    policies: configured ? limits.map((l) => l.policy) : policies,
  };
}
