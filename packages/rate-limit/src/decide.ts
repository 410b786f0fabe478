import {
  checkInteger,
  checkKeyPart,
  InvalidArgumentError,
  type Keyspace,
  type RedisConnection,
} from '@redis-patterns/connection';
import type { AlgorithmArgs } from './algorithms.js';
import type { FailMode, LimitOptions, RateLimiter } from './limiter.js';
import { combine, failed, type Policy, type PolicyResult, type RateLimitResult } from './result.js';
import { EPOCH_SECONDS, multiScript, singleScripts } from './scripts.js';

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
    const cost = options?.cost ?? 1;
    checkInteger('cost', cost, 1);
    if (cost > smallest) {
      throw new InvalidArgumentError(
        'cost',
        `${cost} exceeds the limit of ${smallest}, so it could never be admitted.`,
      );
    }
    return cost;
  };
  // One limit runs its algorithm's own script; several run the script that checks all, then charges all.
  const single = parts.length === 1;
  const script = single ? singleScripts[(parts[0] as LimitPart).args.code] : multiScript;
  const tail = parts.flatMap(({ args }) =>
    single ? [String(args.a), String(args.b)] : [args.code, String(args.a), String(args.b)],
  );
  const run = async (keys: string[], cost: number, consume: boolean): Promise<RateLimitResult> => {
    const reply = await conn.runScript<number[]>(script, keys, [consume ? '1' : '0', String(cost), ...tail], {
      timeoutMs: budgetMs,
    });
    const decided: PolicyResult[] = parts.map((p, i) => ({
      ...p.policy,
      allowed: reply[1 + 4 * i] === 1,
      remaining: reply[2 + 4 * i] as number,
      resetMs: Math.ceil((reply[3 + 4 * i] as number) / 1000),
      retryAfterMs: Math.ceil((reply[4 + 4 * i] as number) / 1000),
    }));
    return combine(decided, ((reply[0] as number) + EPOCH_SECONDS * 1e6) / 1000);
  };

  const limiter: RateLimiter = {
    policies,
    async limit(identifier, options) {
      const keys = keysOf(identifier);
      const cost = costOf(options);
      try {
        return await run(keys, cost, true);
      } catch (err) {
        return failed(policies, failMode === 'open', err instanceof Error ? err : new Error(String(err)));
      }
    },
    async peek(identifier, options) {
      return run(keysOf(identifier), costOf(options), false);
    },
    async reset(identifier) {
      const keys = keysOf(identifier);
      await conn.send(['DEL', ...keys], { key: keys[0] as string, timeoutMs });
    },
  };
  states.set(limiter, state);
  return limiter;
}
