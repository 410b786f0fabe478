import type { RedisConnection, Script } from '@redis-patterns/connection';
import { type KeyPage, ScriptBatcher, scanPage } from '@redis-patterns/connection/internal';
import type { AlgorithmArgs } from './algorithms.js';
import { scripts } from './lua.generated.js';
import type { RateLimitResult } from './result.js';

/*
 * Every Redis command of the rate limiter is sent from this module: each check, peek and reset is
 * one script call (`scripts.<name>` is src/lua/<name>.lua; the four algorithms, and what the
 * scripts share, are in src/lua/lib/). An identifier's keys, one per limit, share its hash tag, so
 * one script sees all of them on Cluster.
 *
 * Every check is ONE script, so a check and its write can never interleave with another caller's
 * (the race that lets a burst through check-then-add limiters), and several limits of one identifier
 * are all checked before any is charged (no partial consumption). Time is the server's (TIME), so
 * callers' clocks never matter.
 *
 * The inspector (src/inspect.ts) reads with src/lua/inspect.lua, deletes with the reset script, and
 * lists keys with the connection's resumable SCAN page (scanKeys below).
 *
 * A check's reply is the server time, then five numbers per limit (allowed, remaining, then reset,
 * retry and next in µs; src/lua/all.lua adds the µs left of a block); decide.ts turns them into a
 * RateLimitResult.
 */

/** The single-limit script of each algorithm. */
export const singleScripts: Record<AlgorithmArgs['code'], Script> = {
  L: scripts.log,
  C: scripts.counter,
  F: scripts.fixed,
  G: scripts.gcra,
};

/** The batch script of each algorithm: many single-limit checks in one call. */
export const batchScripts: Record<AlgorithmArgs['code'], Script> = {
  L: scripts.logBatch,
  C: scripts.counterBatch,
  F: scripts.fixedBatch,
  G: scripts.gcraBatch,
};

/** What the single-limit checks of one limiter share. */
export interface CheckSpec {
  code: AlgorithmArgs['code'];
  /** The bound of each script call. */
  timeoutMs: number;
  /** The algorithm's two numbers, as the scripts take them. */
  a: string;
  b: string;
  /** Checks of one group (algorithm, time budget and numbers) can share a batch script call. */
  group: string;
  /** The check's result from a reply, its five numbers starting at `reply[at]`. */
  decide(reply: number[], at: number): RateLimitResult;
}

/** One single-limit check. */
interface Check {
  spec: CheckSpec;
  key: string;
  /** The cost for a charge, minus the cost for a peek. */
  op: string;
}

/** Runs a check of `cost` on `keys`; `consume` false for a peek. */
export type RunCheck<T> = (keys: string[], cost: number, consume: boolean) => Promise<T>;

/**
 * The checks of a limiter with one limit: its algorithm's own script, through the batcher of its
 * connection and algorithm (created now, shared with every limiter of both).
 */
export function singleLimitCheck(conn: RedisConnection, spec: CheckSpec): RunCheck<RateLimitResult> {
  const batcher = batcherOf(conn, spec.code);
  return (keys, cost, consume) =>
    batcher.call({ spec, key: keys[0] as string, op: String(consume ? cost : -cost) });
}

/** What src/lua/all.lua does: '1' charge, '0' peek, '+' penalty, '-' reward. */
/** src/lua/all.lua's operation: charge, peek, penalty, reward, or refund of the call charged at a server time (µs). */
export type GeneralOp = '1' | '0' | '+' | '-' | `r${number}`;

/**
 * One call of src/lua/all.lua, the script for several limits, blocks, penalties and rewards: `keys`
 * one per limit (then the block key when `blockUs` is not '0'), `tail` the code and two numbers of
 * each limit. Resolves to the raw reply.
 */
export function generalCheck(
  conn: RedisConnection,
  keys: string[],
  op: GeneralOp,
  cost: number,
  blockUs: string,
  tail: readonly string[],
  timeoutMs: number,
): Promise<number[]> {
  return conn.runScript<number[]>(scripts.all, keys, [op, String(cost), blockUs, ...tail], { timeoutMs });
}

/** Round-trip time of a PING in ms. */
export function pingServer(conn: RedisConnection): Promise<number> {
  return conn.ping();
}

/** Deletes the keys of every limit of one identifier; resolves to how many existed. */
export function resetLimits(conn: RedisConnection, keys: string[], timeoutMs: number): Promise<number> {
  return conn.runScript<number>(scripts.reset, keys, [], { timeoutMs });
}

/**
 * One read-only snapshot of an identifier's keys (src/lua/inspect.lua says which, and the reply):
 * `logWindowUs` '0' to take the log's window from its key.
 */
export function readIdentifier(
  conn: RedisConnection,
  keys: string[],
  logWindowUs: string,
): Promise<Array<string | null>> {
  return conn.runScript<Array<string | null>>(scripts.inspect, keys, [logWindowUs], { readonly: true });
}

/** The single-limit checks of each connection and algorithm, gathered per tick. */
const checkBatchers = new WeakMap<RedisConnection, Map<string, ScriptBatcher<Check, RateLimitResult>>>();

/** Most checks in one batch: one script call, so Redis serves nobody else meanwhile. */
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
      layout: { first: 1, slots: 5 },
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

/** One page of a cluster-wide SCAN of `pattern`, resumable from `cursor` in any process. */
export function scanKeys(
  conn: RedisConnection,
  pattern: string,
  page: { cursor: string | undefined; count: number },
): Promise<KeyPage> {
  return scanPage(conn, pattern, page);
}
