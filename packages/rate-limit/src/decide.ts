import {
  ClosedError,
  checkKeyPart,
  InvalidArgumentError,
  type Keyspace,
  type RedisConnection,
} from '@redis-patterns/connection';
import { checkInteger } from '@redis-patterns/connection/internal';
import { type AlgorithmArgs, EPOCH_SECONDS } from './algorithms.js';
import { type BlockCache, createBlockCache } from './block-cache.js';
import { type CallOptions, type CallPlan, configuredPlan, planCall } from './calls.js';
import { type GeneralOp, generalCheck, type RunCheck, resetLimits, singleLimitCheck } from './commands.js';
import type { FailMode, RateLimiter } from './limiter.js';
import { instrument } from './otel.js';
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
  /** How long a refused charge blocks the identifier; 0 for no blocks. */
  blockMs: number;
  /** Most identifiers in the local cache of blocks; 0 for no cache. */
  blockCacheEntries: number;
}

const states = new WeakMap<RateLimiter, LimiterState>();

/** The state of a limiter made by this package, or undefined. */
export function stateOf(limiter: RateLimiter): LimiterState | undefined {
  return states.get(limiter);
}

/** Most penalty or reward points in one call. */
const MAX_POINTS = 1_000_000;

/** The server time (µs, the scripts' clock) each result was decided at: what a refund of it names. */
const decidedAt = new WeakMap<RateLimitResult, number>();

/** Distinct per-call limits whose batched check is kept, per limiter; more are built per call. */
const MAX_SIZED_SPECS = 64;

/**
 * The limits' decisions in a reply: the server time at reply[0], then five numbers per limit from
 * `at`, then (from src/lua/all.lua) the µs left of a block.
 */
function decide(reply: number[], at: number, policies: readonly Policy[], block: boolean): RateLimitResult {
  const decided: PolicyResult[] = [];
  for (let i = 0; i < policies.length; i++) {
    const { name, algorithm, limit, windowMs } = policies[i] as Policy;
    const from = at + 5 * i;
    decided.push({
      name,
      algorithm,
      limit,
      windowMs,
      allowed: reply[from] === 1,
      // Never below 0, even for state left by a larger limit or a penalty.
      remaining: Math.max(0, reply[from + 1] as number),
      resetMs: Math.ceil((reply[from + 2] as number) / 1000),
      retryAfterMs: Math.ceil((reply[from + 3] as number) / 1000),
      nextUnitMs: Math.ceil((reply[from + 4] as number) / 1000),
    });
  }
  // µs since 1970 stay below 2^53, so the sum is exact; combine() floors the ms for the result, and
  // the reference-model tests read this exact value where combine() receives it.
  const result = combine(decided, ((reply[0] as number) + EPOCH_SECONDS * 1e6) / 1000);
  const blockedUs = block ? (reply[at + 5 * policies.length] as number) : 0;
  if (blockedUs > 0) result.blockedMs = Math.ceil(blockedUs / 1000);
  decidedAt.set(result, reply[0] as number);
  return result;
}

/** How a limiter's calls reach Redis: `run` for checks and peeks, `general` for src/lua/all.lua. */
interface Checks {
  keysOf(identifier: string): string[];
  run(keys: string[], plan: CallPlan, consume: boolean): Promise<RateLimitResult>;
  general(keys: string[], op: GeneralOp, plan: CallPlan): Promise<RateLimitResult>;
}

/**
 * One limit and no blocks: its algorithm's own script, batched with the tick's other checks of the
 * same algorithm and numbers (a per-call limit is other numbers). Otherwise src/lua/all.lua.
 */
function checksOf(state: LimiterState, configured: CallPlan): Checks {
  const { conn, parts, timeoutMs, blockMs } = state;
  // The connection rejects at most a tenth of the bound late: asking for 90% of timeoutMs keeps the
  // fail-mode decision within timeoutMs.
  const budgetMs = Math.max(1, Math.floor(timeoutMs * 0.9));
  const blockUs = blockMs > 0 ? String(Math.round(blockMs * 1000)) : '0';
  const first = parts[0] as LimitPart;
  const blockParts =
    parts.length === 1 ? [first.args.suffix, 'block'] : ['all', ...parts.map((p) => p.args.suffix), 'block'];
  const tailOf = (plan: CallPlan) =>
    parts.flatMap(({ args: { code, b } }, i) => [code, String(plan.limits[i]), String(b)]);
  const configuredTail = tailOf(configured);
  const general = (keys: string[], op: GeneralOp, plan: CallPlan) => {
    const tail = plan.configured ? configuredTail : tailOf(plan);
    return generalCheck(conn, keys, op, plan.cost, blockUs, tail, budgetMs).then((reply) =>
      decide(reply, 1, plan.policies, true),
    );
  };
  const sized = new Map<number, RunCheck<RateLimitResult>>();
  const batched = (plan: CallPlan) => {
    const size = plan.limits[0] as number;
    let check = sized.get(size);
    if (check === undefined) {
      const { code, b } = first.args;
      check = singleLimitCheck(conn, {
        code,
        timeoutMs: budgetMs,
        a: String(size),
        b: String(b),
        group: `${code}:${budgetMs}:${size}:${b}`,
        decide: (reply, at) => decide(reply, at, plan.policies, false),
      });
      if (sized.size < MAX_SIZED_SPECS) sized.set(size, check);
    }
    return check;
  };
  const plain = parts.length === 1 && blockMs === 0 ? batched(configured) : undefined;
  return {
    keysOf(identifier) {
      const keys = parts.map((p) => p.keyspace.key(identifier, p.args.suffix));
      // A block belongs to the limiter's state, as its counts do: under its first limit's key suffix.
      // all()'s block is its own, not its first limiter's.
      if (blockMs > 0) keys.push(first.keyspace.key(identifier, ...blockParts));
      return keys;
    },
    run(keys, plan, consume) {
      if (plain !== undefined) return (plan.configured ? plain : batched(plan))(keys, plan.cost, consume);
      return general(keys, consume ? '1' : '0', plan);
    },
    general,
  };
}

/** A limiter over `state`: validates calls, runs the script within `timeoutMs`, applies the fail mode. */
export function buildLimiter(state: LimiterState): RateLimiter {
  const { conn, parts, failMode, timeoutMs } = state;
  const configured = configuredPlan(parts);
  const { policies } = configured;
  const { keysOf, run, general } = checksOf(state, configured);
  const cache: BlockCache | undefined =
    state.blockCacheEntries > 0 ? createBlockCache(state.blockCacheEntries) : undefined;
  let closed = false;
  const open = (identifier: unknown) => {
    if (closed) throw new ClosedError('This rate limiter was closed; create a new one.');
    checkKeyPart('identifier', identifier);
  };
  /** reset() calls so far: a check sent before one does not put its block in the local cache. */
  let resets = 0;
  const adjust = async (identifier: string, op: GeneralOp, points: number, options: unknown) => {
    open(identifier);
    const name = op === '+' ? 'points' : 'cost';
    checkInteger(name, points, 1);
    if (points > MAX_POINTS) throw new InvalidArgumentError(name, `${points} is above ${MAX_POINTS}.`);
    let callOptions = options as (CallOptions & { charge?: unknown }) | undefined;
    let charge: unknown;
    if (callOptions !== null && typeof callOptions === 'object' && 'charge' in callOptions)
      ({ charge, ...callOptions } = callOptions);
    const plan = planCall(parts, configured, callOptions, '{ limit?, charge? }');
    let sent: GeneralOp = op;
    if (charge !== undefined) {
      const at =
        typeof charge === 'object' && charge !== null ? decidedAt.get(charge as RateLimitResult) : undefined;
      if (at === undefined)
        throw new InvalidArgumentError('charge', 'expected the result of a limit() call of this package.');
      sent = `r${at}`;
    }
    const resetsBefore = resets;
    const result = await general(keysOf(identifier), sent, { ...plan, cost: points });
    if (resets === resetsBefore) cache?.remember(identifier, result);
    return result;
  };

  const limiter: RateLimiter = instrument({
    policies,
    async limit(identifier, options) {
      open(identifier);
      const plan = planCall(parts, configured, options);
      const known = cache?.get(identifier);
      if (known !== undefined) return known;
      const resetsBefore = resets;
      try {
        const result = await run(keysOf(identifier), plan, true);
        // A reset() since the call was sent may have lifted the block this reply reports.
        if (resets === resetsBefore) cache?.remember(identifier, result);
        return result;
      } catch (err) {
        return failed(
          plan.policies,
          failMode === 'open',
          err instanceof Error ? err : new Error(String(err)),
        );
      }
    },
    async peek(identifier, options) {
      open(identifier);
      const plan = planCall(parts, configured, options);
      return cache?.get(identifier) ?? run(keysOf(identifier), plan, false);
    },
    penalty: (identifier, points, options) => adjust(identifier, '+', points, options),
    reward: async (identifier, points, options) => {
      if (options !== undefined && options !== null && 'charge' in options)
        throw new InvalidArgumentError('charge', 'is an option of refund(), not of reward().');
      return adjust(identifier, '-', points, options);
    },
    refund: (identifier, cost = 1, options = undefined) => adjust(identifier, '-', cost, options),
    async reset(identifier) {
      open(identifier);
      resets++;
      cache?.forget(identifier);
      await resetLimits(conn, keysOf(identifier), timeoutMs);
    },
    async close() {
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return limiter.close();
    },
  });
  states.set(limiter, state);
  return limiter;
}
