import {
  ClosedError,
  checkKeyPart,
  InvalidArgumentError,
  type Keyspace,
  type RedisConnection,
} from '@redis-patterns/connection';
import { checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import { type AlgorithmArgs, EPOCH_SECONDS } from './algorithms.js';
import { type CheckSpec, multiLimitCheck, resetLimits, singleLimitCheck } from './commands.js';
import type { FailMode, LimitOptions, RateLimiter } from './limiter.js';
import { combine, failed, type Policy, type PolicyResult, type RateLimitResult } from './result.js';

/** One limit of a limiter: where its keys live, what the script needs, how it is advertised. */
export interface LimitPart {
  keyspace: Keyspace;
  args: AlgorithmArgs;
  policy: Policy;
}

/** Everything a limiter is made of; {@link all} merges the parts of several. */
export interface LimiterState {
  conn: RedisConnection;
  parts: LimitPart[];
  failMode: FailMode;
  timeoutMs: number;
}

const states = new WeakMap<RateLimiter, LimiterState>();

/** The state of a limiter made by this package, or undefined. */
export function stateOf(limiter: RateLimiter): LimiterState | undefined {
  return states.get(limiter);
}

/** A limiter over `state`: validates calls, runs the script within `timeoutMs`, applies the fail mode. */
export function buildLimiter(state: LimiterState): RateLimiter {
  const { conn, parts, failMode, timeoutMs } = state;
  const policies = Object.freeze(parts.map((p) => p.policy));
  const smallest = Math.min(...policies.map((p) => p.limit));
  // The connection rejects at most a tenth of the bound late: asking for 90% of timeoutMs keeps the
  // fail-mode decision within timeoutMs.
  const budgetMs = Math.max(1, Math.floor(timeoutMs * 0.9));

  const keysOf = (identifier: unknown) => {
    checkKeyPart('identifier', identifier);
    return parts.map((p) => p.keyspace.key(identifier, p.args.suffix));
  };
  const costOf = (options: LimitOptions | undefined) => {
    if (options === undefined) return 1;
    if (options === null || typeof options !== 'object') checkOptions('options', options, '{ cost? }');
    const cost = options.cost === undefined ? 1 : options.cost;
    checkInteger('cost', cost, 1);
    if (cost > smallest) {
      throw new InvalidArgumentError(
        'cost',
        `${cost} exceeds the limit of ${smallest}, so it could never be admitted.`,
      );
    }
    return cost;
  };
  /** The limits' decisions in a reply: the server time at reply[0], then four numbers per limit from `at`. */
  const decide = (reply: number[], at: number): RateLimitResult => {
    const decided: PolicyResult[] = [];
    for (let i = 0; i < parts.length; i++) {
      const { name, algorithm, limit, windowMs } = (parts[i] as LimitPart).policy;
      const from = at + 4 * i;
      decided.push({
        name,
        algorithm,
        limit,
        windowMs,
        allowed: reply[from] === 1,
        // Never below 0, even for state left by a larger limit on the same keys.
        remaining: Math.max(0, reply[from + 1] as number),
        resetMs: Math.ceil((reply[from + 2] as number) / 1000),
        retryAfterMs: Math.ceil((reply[from + 3] as number) / 1000),
      });
    }
    // µs since 1970 stay below 2^53, so the sum is exact; combine() floors the ms for the result, and
    // the reference-model tests read this exact value where combine() receives it.
    return combine(decided, ((reply[0] as number) + EPOCH_SECONDS * 1e6) / 1000);
  };
  // One limit runs its algorithm's own script (batched with the tick's other checks of the same
  // algorithm and numbers); several run the script that checks all, then charges all.
  const only = parts.length === 1 ? (parts[0] as LimitPart).args : undefined;
  const spec: CheckSpec | undefined = only && {
    code: only.code,
    timeoutMs: budgetMs,
    a: String(only.a),
    b: String(only.b),
    group: `${only.code}:${budgetMs}:${only.a}:${only.b}`,
    decide,
  };
  const checkOne = spec && singleLimitCheck(conn, spec);
  const limits = parts.map((p) => p.args);
  const checkAll = multiLimitCheck(conn, limits, budgetMs);
  const run = (keys: string[], cost: number, consume: boolean): Promise<RateLimitResult> => {
    if (checkOne !== undefined) return checkOne(keys, cost, consume);
    return checkAll(keys, cost, consume).then((reply) => decide(reply, 1));
  };

  let closed = false;
  const open = () => {
    if (closed) throw new ClosedError('This rate limiter was closed; create a new one.');
  };
  const limiter: RateLimiter = {
    policies,
    async limit(identifier, options) {
      open();
      const keys = keysOf(identifier);
      const cost = costOf(options);
      try {
        return await run(keys, cost, true);
      } catch (err) {
        return failed(policies, failMode === 'open', err instanceof Error ? err : new Error(String(err)));
      }
    },
    async peek(identifier, options) {
      open();
      return run(keysOf(identifier), costOf(options), false);
    },
    async reset(identifier) {
      open();
      const keys = keysOf(identifier);
      await resetLimits(conn, keys, timeoutMs);
    },
    async close() {
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return limiter.close();
    },
  };
  states.set(limiter, state);
  return limiter;
}
