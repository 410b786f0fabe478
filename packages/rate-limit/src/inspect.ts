import {
  ClosedError,
  checkKeyPart,
  createKeyspace,
  escapeGlob,
  InvalidArgumentError,
  type RedisLike,
  toConnection,
} from '@redis-patterns/connection';
import { checkOptions, checkPage } from '@redis-patterns/connection/internal';
import { type Algorithm, type AlgorithmArgs, type AlgorithmKind, argsOf } from './algorithms.js';
import { pingServer, readIdentifier, resetLimits, scanKeys } from './commands.js';
import { decodeState, type IdentifierState, KINDS } from './inspect-state.js';
import { instrumentRateLimitInspector } from './otel.js';

/** Options of {@link createRateLimitInspector}: only what a CLI knows, a connection and a prefix. */
export interface RateLimitInspectorOptions {
  /** A connection from `connect()`, or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** The prefix the limiters were created with. @default 'rl:' */
  prefix?: string;
}

/** Where a listing starts and how long a page is. */
export interface RateLimitPageOptions {
  /** The `cursor` of the previous page; leave it out for the first page. */
  cursor?: string | undefined;
  /** Most keys looked at for this page. @default 100 (at most 1000) */
  count?: number | undefined;
}

/** One page of a listing. */
export interface RateLimitPage<T> {
  /** What this page found; may be shorter than `count` (or empty) while `cursor` is set. */
  items: T[];
  /** Pass it back for the next page; undefined when the listing is complete. */
  cursor: string | undefined;
}

/** A key with live state under the prefix, as its layout (`<prefix>{<identifier>}:<suffix>`) tells. */
export interface RateLimitKey {
  /** The Redis key. */
  key: string;
  /** The identifier it belongs to (the argument of `limit()`). */
  identifier: string;
  /** `state` for an algorithm's counts, `block` for a block of `blockDurationMs`, `unknown` for a suffix this version does not know. */
  kind: 'state' | 'block' | 'unknown';
  /**
   * The algorithm the key belongs to; several for the block of an `all()` limiter (one per limit,
   * in order, whatever their prefixes); empty when the layout does not say (`unknown`).
   */
  algorithms: AlgorithmKind[];
}

/** Options of {@link RateLimitInspector.get}. */
export interface RateLimitGetOptions {
  /**
   * The limiters' algorithms, as given to `createRateLimiter` (at most one per kind: limiters of a
   * prefix never share a kind). Without one, what needs its numbers is left undefined: the
   * bucket's tokens, limits and remaining units; the log's and the counter's windows are read from
   * their keys' expiry. @default []
   */
  algorithms?: readonly Algorithm[] | undefined;
}

/**
 * Read and repair rate-limit state from outside the app (the `redis-patterns` CLI, a dashboard).
 * Reads never write; `reset` is the one mutating call.
 */
export interface RateLimitInspector extends AsyncDisposable {
  /** The keys with live state under the prefix, a page at a time (a cluster-wide SCAN, never KEYS). */
  list(options?: RateLimitPageOptions): Promise<RateLimitPage<RateLimitKey>>;
  /** The identifier's state under each algorithm and its blocks, in one atomic read on the server's clock. */
  get(identifier: string, options?: RateLimitGetOptions): Promise<IdentifierState>;
  /**
   * Forgets the identifier under every algorithm of the prefix and lifts its blocks, as a limiter's
   * `reset()` does; resolves to how many keys were deleted. An `all()` limiter's own block (listed
   * as a `block` with several algorithms) expires by itself; its limiter's `reset()` lifts it.
   */
  reset(identifier: string): Promise<number>;
  /** Round-trip time of a PING in ms. */
  ping(): Promise<number>;
  /** Refuses later calls with `ClosedError`; the connection stays open (close it yourself). */
  close(): Promise<void>;
}

/** The key suffix of each algorithm (AlgorithmArgs.suffix). */
const SUFFIXES: Record<string, AlgorithmKind> = {
  loglist: 'slidingWindowLog',
  counter: 'slidingWindowCounter',
  fixed: 'fixedWindow',
  gcra: 'tokenBucket',
};
const SUFFIX_OF = Object.fromEntries(Object.entries(SUFFIXES).map(([s, k]) => [k, s])) as Record<
  AlgorithmKind,
  string
>;

/**
 * Creates a {@link RateLimitInspector}. Nothing connects here.
 *
 * @example
 * ```ts
 * import { connect, createRateLimitInspector, fixedWindow } from '@redis-patterns/rate-limit';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const inspector = createRateLimitInspector({ redis, prefix: 'api:' });
 * let cursor: string | undefined;
 * do {
 *   const page = await inspector.list({ cursor, count: 100 });
 *   for (const k of page.items) console.log(k.identifier, k.kind, k.algorithms.join('+'));
 *   cursor = page.cursor;
 * } while (cursor !== undefined);
 * const state = await inspector.get('user-42', { algorithms: [fixedWindow({ limit: 10, windowMs: 60_000 })] });
 * console.log(state.fixedWindow?.remaining, state.blocks);
 * await inspector.reset('user-42');
 * await redis.close();
 * ```
 */
export function createRateLimitInspector(options: RateLimitInspectorOptions): RateLimitInspector {
  if (options === undefined) throw new InvalidArgumentError('options', 'expected { redis, prefix? }.');
  checkOptions('options', options, '{ redis, prefix? }');
  const keyspace = createKeyspace(options.prefix ?? 'rl:');
  const conn = toConnection(options.redis);
  // Keys of this prefix only: `{` right after it (another prefix that starts with this one has no
  // brace there). `{` is not a glob character.
  const pattern = `${escapeGlob(keyspace.prefix)}{*`;
  let closed = false;
  const open = () => {
    if (closed) throw new ClosedError('This rate-limit inspector was closed; create a new one.');
  };
  /** The keys of one identifier, in the order of src/lua/inspect.lua: the states, then the blocks. */
  const keysOf = (identifier: string) => [
    ...KINDS.map((kind) => keyspace.key(identifier, SUFFIX_OF[kind])),
    ...KINDS.map((kind) => keyspace.key(identifier, SUFFIX_OF[kind], 'block')),
  ];

  const inspector: RateLimitInspector = instrumentRateLimitInspector({
    async list(given) {
      open();
      const page = checkOptions('options', given, '{ cursor?, count? }');
      const count = checkPage(page);
      const { keys, cursor } = await scanKeys(conn, pattern, { cursor: page.cursor, count });
      const items: RateLimitKey[] = [];
      for (const key of keys) {
        const item = describeKey(key, keyspace.tagOf(key));
        if (item !== undefined) items.push(item);
      }
      return { items, cursor };
    },
    async get(identifier, given) {
      open();
      checkKeyPart('identifier', identifier);
      const configs = configsOf(checkOptions('options', given, '{ algorithms? }').algorithms);
      const log = configs.get('slidingWindowLog');
      const reply = await readIdentifier(conn, keysOf(identifier), log === undefined ? '0' : String(log.b));
      return decodeState(identifier, reply, configs);
    },
    async reset(identifier) {
      open();
      checkKeyPart('identifier', identifier);
      return resetLimits(conn, keysOf(identifier), conn.commandTimeoutMs);
    },
    async ping() {
      open();
      return pingServer(conn);
    },
    async close() {
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return inspector.close();
    },
  });
  return inspector;
}

/** A listed key from its layout; undefined for a key that is not one of a limiter's. */
function describeKey(key: string, identifier: string | undefined): RateLimitKey | undefined {
  if (identifier === undefined) return undefined;
  const close = key.indexOf('}');
  const parts = key.slice(close + 1).split(':');
  if (parts[0] !== '' || parts.length < 2) return undefined;
  const suffixes = parts.slice(1);
  const block = suffixes[suffixes.length - 1] === 'block';
  // <suffix>, <suffix>:block, or all:<suffix>:...:block for an all() limiter's block.
  const named = block ? (suffixes[0] === 'all' ? suffixes.slice(1, -1) : suffixes.slice(0, -1)) : suffixes;
  const algorithms = named.map((s) => SUFFIXES[s]);
  const known = algorithms.length > 0 && algorithms.every((a) => a !== undefined);
  const single = block ? suffixes[0] === 'all' || algorithms.length === 1 : algorithms.length === 1;
  if (!known || !single) return { key, identifier, kind: 'unknown', algorithms: [] };
  return { key, identifier, kind: block ? 'block' : 'state', algorithms: algorithms as AlgorithmKind[] };
}

function configsOf(algorithms: unknown): Map<AlgorithmKind, AlgorithmArgs> {
  const configs = new Map<AlgorithmKind, AlgorithmArgs>();
  if (algorithms === undefined) return configs;
  if (!Array.isArray(algorithms)) {
    throw new InvalidArgumentError(
      'algorithms',
      'expected an array of algorithms, e.g. [fixedWindow({ ... })].',
    );
  }
  for (const algorithm of algorithms) {
    const args = argsOf(algorithm);
    const { kind } = algorithm as Algorithm;
    if (configs.has(kind)) {
      throw new InvalidArgumentError(
        'algorithms',
        `names ${kind} twice; limiters of one prefix never share a kind.`,
      );
    }
    configs.set(kind, args);
  }
  return configs;
}
