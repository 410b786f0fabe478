import {
  ClosedError,
  checkKeyPart,
  InvalidArgumentError,
  type Keyspace,
  type RedisConnection,
} from '@redis-patterns/connection';
import { checkInteger, checkOptions, ScriptBatcher } from '@redis-patterns/connection/internal';
import type { AlgorithmArgs } from './algorithms.js';
import type { FailMode, LimitOptions, RateLimiter } from './limiter.js';
import { combine, failed, type Policy, type PolicyResult, type RateLimitResult } from './result.js';
import { batchScripts, EPOCH_SECONDS, multiScript, resetScript, singleScripts } from './scripts.js';

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
  const batcher = spec && batcherOf(conn, spec.code);
  const tail = parts.flatMap(({ args }) => [args.code, String(args.a), String(args.b)]);
  const run = (keys: string[], cost: number, consume: boolean): Promise<RateLimitResult> => {
    if (spec !== undefined && batcher !== undefined) {
      return batcher.call({ spec, key: keys[0] as string, op: String(consume ? cost : -cost) });
    }
    const args = [consume ? '1' : '0', String(cost), ...tail];
    return conn
      .runScript<number[]>(multiScript, keys, args, { timeoutMs: budgetMs })
      .then((reply) => decide(reply, 1));
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
      await conn.runScript(resetScript, keys, [], { timeoutMs });
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

/** What the single-limit checks of one limiter share. */
interface CheckSpec {
  code: AlgorithmArgs['code'];
  timeoutMs: number;
  /** The algorithm's two numbers, as the scripts take them. */
  a: string;
  b: string;
  /** Checks of one group (algorithm, time budget and numbers) can share a batch script call. */
  group: string;
  /** The check's result from a reply (see `decide` in buildLimiter). */
  decide(reply: number[], at: number): RateLimitResult;
}

/** One single-limit check. */
interface Check {
  spec: CheckSpec;
  key: string;
  /** The cost for a charge, minus the cost for a peek. */
  op: string;
}

/** The single-limit checks of each connection and algorithm, gathered per tick. */
const checkBatchers = new WeakMap<RedisConnection, Map<string, ScriptBatcher<Check, RateLimitResult>>>();

/**
 * Most checks in one batch (one script call, so Redis serves nobody else meanwhile). 25 measured
 * best at 50 and 100 in flight; smaller batches measured 5-10% slower.
 */
const MAX_BATCH = 25;

/**
 * The batcher of single-limit checks of one algorithm on `conn`. With nothing in flight a check goes
 * out at once; checks asked for while others are in flight go out together at the end of the tick,
 * one batch script call per group (numbers and time budget) and hash slot. The checks of one hash
 * tag stay together in call order, so they are decided in that order.
 */
function batcherOf(
  conn: RedisConnection,
  code: AlgorithmArgs['code'],
): ScriptBatcher<Check, RateLimitResult> {
  let byCode = checkBatchers.get(conn);
  if (byCode === undefined) {
    byCode = new Map();
    checkBatchers.set(conn, byCode);
  }
  let batcher = byCode.get(code);
  if (batcher === undefined) {
    batcher = new ScriptBatcher<Check, RateLimitResult>(conn, {
      single: singleScripts[code],
      batch: batchScripts[code],
      max: MAX_BATCH,
      keyOf: (check) => check.key,
      // Limiters of different numbers (or timeouts) batch apart: each batch passes its numbers once.
      // Only limiters sharing keys with different numbers (a misconfiguration) could then see their
      // checks of one tick decided out of call order.
      groupOf: (check) => check.spec.group,
      argsOf: checkArgs,
      layout: { first: 1, slots: 4 },
      decode: (reply, at, check) => check.spec.decide(reply as number[], at),
      timeoutMs: (checks) => (checks[0] as Check).spec.timeoutMs,
    });
    byCode.set(code, batcher);
  }
  return batcher;
}

/** KEYS and ARGV of the single script (one check) or the batch script (several; see src/lua). */
function checkArgs(checks: readonly Check[], many: boolean): { keys: string[]; args: string[] } {
  const first = checks[0] as Check;
  const { a, b } = first.spec;
  if (!many) {
    const charge = first.op.charCodeAt(0) !== 45; // '-': a peek
    return { keys: [first.key], args: [charge ? '1' : '0', charge ? first.op : first.op.slice(1), a, b] };
  }
  // The costs are left out when every check charges 1, the usual call: 25 fewer arguments to
  // write and for Redis to read.
  const keys: string[] = [];
  let plain = true;
  for (const c of checks) {
    keys.push(c.key);
    if (c.op !== '1') plain = false;
  }
  const args = [a, b];
  if (!plain) for (const c of checks) args.push(c.op);
  return { keys, args };
}
