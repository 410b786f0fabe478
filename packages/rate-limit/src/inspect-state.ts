import { type AlgorithmArgs, type AlgorithmKind, EPOCH_SECONDS } from './algorithms.js';

/** What every algorithm's state in {@link IdentifierState} says. */
export interface AlgorithmState {
  /**
   * Units in use now: the live log entries, the counter's weighted estimate (may be fractional),
   * the fixed window's count, the bucket's burst minus its tokens. Undefined when it cannot be known
   * without the limiter's configuration (pass it in `algorithms`).
   */
  used: number | undefined;
  /** The limit (the bucket's burst) from `algorithms`; undefined when not given. */
  limit: number | undefined;
  /** Units a call could use now, as a peek would say (never below 0); undefined without `limit`. */
  remaining: number | undefined;
  /** Milliseconds until this limit is fully restored if nothing else is used; undefined when unknown. */
  resetMs: number | undefined;
  /** Where the window came from: the `algorithms` given, or read from the key itself. */
  source: 'argument' | 'redis';
}

/** The sliding log of an identifier: one entry per unit used, newest first. */
export interface LogState extends AlgorithmState {
  /** Entries in Redis, expired ones the next call will drop included. */
  stored: number;
  /** The window in ms (read from the key's expiry when not given); undefined when unknown. */
  windowMs: number | undefined;
  /** When the newest entry was recorded (epoch ms, Redis server clock). */
  newestAt: number;
  /** When the oldest live entry was recorded (epoch ms); undefined when none is live. */
  oldestLiveAt: number | undefined;
  /** Milliseconds until the oldest live entry leaves (one more unit back); 0 when none is live. */
  nextUnitMs: number | undefined;
}

/** The sliding-window counter of an identifier: this window's count and the previous one's. */
export interface CounterState extends AlgorithmState {
  /** The window in ms: from `algorithms`, else worked out from the key's expiry (the end of the next window). */
  windowMs: number | undefined;
  /** When the current fixed window began (epoch ms); undefined when the window is unknown. */
  windowStart: number | undefined;
  /** Units counted in the current window. */
  current: number;
  /** Units counted in the previous window, weighted into `used` by the share still covered. */
  previous: number;
}

/** The fixed window of an identifier. */
export interface FixedWindowState extends AlgorithmState {
  /** When the window began (epoch ms): the identifier's first admitted call after the last one ended. */
  windowStart: number;
  /** When it ends (epoch ms) and the count starts over. */
  windowEnd: number;
  /** Units counted in the window. */
  count: number;
}

/** The token bucket (GCRA) of an identifier. */
export interface TokenBucketState extends AlgorithmState {
  /** Tokens in the bucket now (its `remaining`); undefined without the bucket's configuration. */
  tokens: number | undefined;
  /** Milliseconds until the next token (0 when full); undefined without the configuration. */
  nextTokenMs: number | undefined;
}

/** A block set by `blockDurationMs` after a refused call. */
export interface BlockState {
  /** The algorithm of the limiter that set it. */
  algorithm: AlgorithmKind;
  /** When it ends (epoch ms, Redis server clock). */
  endsAt: number;
  /** Milliseconds left. */
  leftMs: number;
}

/** An identifier's state under each algorithm; an algorithm with nothing live is undefined. */
export interface IdentifierState {
  /** The identifier, as given. */
  identifier: string;
  /** The Redis server time of the reading (epoch ms). */
  serverTime: number;
  /** Under `slidingWindowLog`. */
  slidingWindowLog: LogState | undefined;
  /** Under `slidingWindowCounter`. */
  slidingWindowCounter: CounterState | undefined;
  /** Under `fixedWindow`. */
  fixedWindow: FixedWindowState | undefined;
  /** Under `tokenBucket`. */
  tokenBucket: TokenBucketState | undefined;
  /** The blocks in force (at most one per algorithm; `all()`'s own blocks are listed, not read here). */
  blocks: BlockState[];
}

/** The algorithms in the order of the inspect script's keys (src/lua/inspect.lua). */
export const KINDS: readonly AlgorithmKind[] = [
  'slidingWindowLog',
  'slidingWindowCounter',
  'fixedWindow',
  'tokenBucket',
];

const EPOCH_MS = EPOCH_SECONDS * 1000;
/** µs since the scripts' epoch to epoch ms. */
const toEpochMs = (us: number) => Math.floor(us / 1000) + EPOCH_MS;
const ms = (us: number) => Math.max(0, Math.ceil(us / 1000));
const num = (value: string | null | undefined) =>
  value === null || value === undefined ? undefined : Number(value);

/** Turns the inspect script's reply into an {@link IdentifierState}; `configs` by algorithm. */
export function decodeState(
  identifier: string,
  reply: ReadonlyArray<string | null>,
  configs: ReadonlyMap<AlgorithmKind, AlgorithmArgs>,
): IdentifierState {
  const now = Number(reply[0]);
  const blocks: BlockState[] = [];
  KINDS.forEach((algorithm, i) => {
    const end = num(reply[14 + i]);
    if (end !== undefined && end > now)
      blocks.push({ algorithm, endsAt: toEpochMs(end), leftMs: ms(end - now) });
  });
  return {
    identifier,
    serverTime: toEpochMs(now),
    slidingWindowLog: logState(reply, now, configs.get('slidingWindowLog')),
    slidingWindowCounter: counterState(reply, now, configs.get('slidingWindowCounter')),
    fixedWindow: fixedState(reply, now, configs.get('fixedWindow')),
    tokenBucket: bucketState(reply, now, configs.get('tokenBucket')),
    blocks,
  };
}

function limits(used: number | undefined, config: AlgorithmArgs | undefined, floor = false) {
  const limit = config?.a;
  const left = limit === undefined || used === undefined ? undefined : limit - used;
  return { limit, remaining: left === undefined ? undefined : Math.max(0, floor ? Math.floor(left) : left) };
}

function logState(reply: ReadonlyArray<string | null>, now: number, config: AlgorithmArgs | undefined) {
  const stored = Number(reply[1]);
  const newest = num(reply[3]);
  if (stored === 0 || newest === undefined) return undefined;
  const windowUs = num(reply[5]);
  const used = windowUs === undefined ? undefined : Number(reply[2]);
  if (used === 0) return undefined;
  const oldest = num(reply[4]);
  return {
    used,
    ...limits(used, config),
    resetMs: windowUs === undefined ? undefined : ms(newest + windowUs - now),
    source: config === undefined ? 'redis' : 'argument',
    stored,
    windowMs: windowUs === undefined ? undefined : windowUs / 1000,
    newestAt: toEpochMs(newest),
    oldestLiveAt: oldest === undefined ? undefined : toEpochMs(oldest),
    nextUnitMs: windowUs === undefined || oldest === undefined ? undefined : ms(oldest + windowUs - now),
  } satisfies LogState;
}

function counterState(reply: ReadonlyArray<string | null>, now: number, config: AlgorithmArgs | undefined) {
  const stored = num(reply[6]);
  if (stored === undefined) return undefined;
  const expiry = num(reply[9]);
  // The key expires at the end of the window after its own (lib/counter): (i + 2) × window.
  // Rounded: before Redis 7 the expiry is read to within a ms, and i + 2 >= 7 (windows of at most a
  // year since 2020), so the error is well under half a ms.
  const inferred = expiry === undefined || expiry < 0 ? 0 : Math.round((expiry - EPOCH_MS) / (stored + 2));
  const windowMs = config === undefined ? (inferred > 0 ? inferred : undefined) : config.b / 1000;
  let current = Number(reply[7]);
  let previous = Number(reply[8]);
  let used: number | undefined;
  let resetMs: number | undefined;
  let windowStart: number | undefined;
  if (windowMs !== undefined) {
    const window = windowMs * 1000;
    let index = Math.floor(now / window);
    if (stored === index - 1) [current, previous] = [0, current];
    else if (stored === index + 1)
      index = stored; // the server's clock stepped back: lib/counter stays
    else if (stored !== index) return undefined; // nothing live: the next call starts over
    const elapsed = now - index * window;
    used = previous * Math.min(1, (window - elapsed) / window) + current;
    if (used === 0) return undefined;
    resetMs = ms(current > 0 ? 2 * window - elapsed : window - elapsed);
    windowStart = toEpochMs(index * window);
  }
  return {
    used,
    ...limits(used, config, true),
    resetMs,
    source: config === undefined ? 'redis' : 'argument',
    windowMs,
    windowStart,
    current,
    previous,
  } satisfies CounterState;
}

function fixedState(reply: ReadonlyArray<string | null>, now: number, config: AlgorithmArgs | undefined) {
  const start = num(reply[10]);
  const expiry = num(reply[12]);
  if (start === undefined) return undefined;
  // The key expires when its window ends (lib/fixed), so the window needs no configuration.
  const endUs =
    config !== undefined
      ? start + config.b
      : expiry !== undefined && expiry > 0
        ? (expiry - EPOCH_MS) * 1000
        : undefined;
  if (endUs === undefined || endUs <= now) return undefined;
  const count = Number(reply[11]);
  return {
    used: count,
    ...limits(count, config),
    resetMs: ms(endUs - now),
    source: config === undefined ? 'redis' : 'argument',
    windowStart: toEpochMs(start),
    windowEnd: toEpochMs(endUs),
    count,
  } satisfies FixedWindowState;
}

function bucketState(reply: ReadonlyArray<string | null>, now: number, config: AlgorithmArgs | undefined) {
  const tat = num(reply[13]);
  if (tat === undefined || tat <= now) return undefined;
  const used = tat - now;
  let tokens: number | undefined;
  let nextTokenMs: number | undefined;
  if (config !== undefined) {
    // As lib/gcra: the bucket is `burst` emission intervals deep; `used` of it is taken.
    const { a: burst, b: interval } = config;
    tokens = Math.max(0, Math.floor((burst * interval - used + 0.5) / interval));
    nextTokenMs = ms(Math.max(0, used - burst * interval + (tokens + 1) * interval));
  }
  return {
    used: tokens === undefined ? undefined : (config as AlgorithmArgs).a - tokens,
    limit: config?.a,
    remaining: tokens,
    resetMs: ms(used),
    source: config === undefined ? 'redis' : 'argument',
    tokens,
    nextTokenMs,
  } satisfies TokenBucketState;
}
