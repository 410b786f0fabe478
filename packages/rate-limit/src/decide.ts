import {
  checkInteger,
  checkKeyPart,
  InvalidArgumentError,
  type Keyspace,
  packByTag,
  type RedisConnection,
  settleEach,
  TickBatcher,
} from '@redis-patterns/connection';
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
  const send = single
    ? (keys: string[], args: string[]) =>
        batched(conn, (parts[0] as LimitPart).args.code, budgetMs, keys[0] as string, args)
    : (keys: string[], args: string[]) =>
        conn.runScript<number[]>(script, keys, args, { timeoutMs: budgetMs });
  const run = async (keys: string[], cost: number, consume: boolean): Promise<RateLimitResult> => {
    const reply = await send(keys, [consume ? '1' : '0', String(cost), ...tail]);
    const decided: PolicyResult[] = parts.map((p, i) => ({
      ...p.policy,
      allowed: reply[1 + 4 * i] === 1,
      // Never below 0, even for state left by a larger limit on the same keys.
      remaining: Math.max(0, reply[2 + 4 * i] as number),
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
      await conn.runScript(resetScript, keys, [], { timeoutMs });
    },
  };
  states.set(limiter, state);
  return limiter;
}

interface PendingCheck {
  code: AlgorithmArgs['code'];
  timeoutMs: number;
  key: string;
  args: string[];
  resolve: (reply: number[]) => void;
  reject: (err: unknown) => void;
}

/** The single-limit checks of each connection, gathered per tick. */
const checkBatchers = new WeakMap<RedisConnection, TickBatcher<PendingCheck>>();

/** Most checks in one batch (one script call, so Redis serves nobody else meanwhile). */
const MAX_BATCH = 25;

/**
 * Runs one single-limit check. With nothing in flight it goes out at once; checks asked for while
 * others are in flight go out together at the end of the tick: one batch script per hash slot (see
 * `batchScript`), or the single script when a slot has one check.
 */
function batched(
  conn: RedisConnection,
  code: AlgorithmArgs['code'],
  timeoutMs: number,
  key: string,
  args: string[],
): Promise<number[]> {
  let batcher = checkBatchers.get(conn);
  if (batcher === undefined) {
    batcher = new TickBatcher((checks, track) => sendAll(conn, checks, track), { immediateWhenIdle: true });
    checkBatchers.set(conn, batcher);
  }
  const added = batcher;
  return new Promise((resolve, reject) => added.add({ code, timeoutMs, key, args, resolve, reject }));
}

/** Sends one tick's checks: per algorithm and time budget, per hash slot, in batches. */
function sendAll(conn: RedisConnection, checks: PendingCheck[], track: (call: Promise<unknown>) => void) {
  if (checks.length === 1) {
    sendChecks(conn, checks, track);
    return;
  }
  const byKind = new Map<string, PendingCheck[]>();
  for (const check of checks) {
    const kind = `${check.code}:${check.timeoutMs}`;
    const same = byKind.get(kind);
    if (same === undefined) byKind.set(kind, [check]);
    else same.push(check);
  }
  for (const ofKind of byKind.values()) {
    for (const group of conn.groupBySlot(ofKind, (c) => c.key)) {
      // At most MAX_BATCH per batch, which measured best at 50 and 100 in flight; batches are not
      // split further (halving them measured 5-10% slower once the connection spreads batches of
      // free keys over its sockets). The checks of one hash tag stay together in call order (a busy
      // tag gets batches of its own, kept in order by the connection), so they are decided in that
      // order.
      for (const batch of packByTag(group, (c) => c.key, MAX_BATCH)) sendChecks(conn, batch, track);
    }
  }
}

/** One script call for `checks` (all of one algorithm, time budget and slot). */
function sendChecks(conn: RedisConnection, checks: PendingCheck[], track: (call: Promise<unknown>) => void) {
  const only = checks[0] as PendingCheck;
  const { code, timeoutMs } = only;
  if (checks.length === 1) {
    const sent = conn.runScript<number[]>(singleScripts[code], [only.key], only.args, { timeoutMs });
    track(sent);
    sent.then(only.resolve, only.reject);
    return;
  }
  const sent = conn.runScript<Array<number[] | Error>>(
    batchScripts[code],
    checks.map((c) => c.key),
    checks.flatMap((c) => c.args),
    { timeoutMs },
  );
  track(sent);
  // A check Redis refused (its key holds another type) fails alone, as it would unbatched.
  settleEach(sent, checks);
}
