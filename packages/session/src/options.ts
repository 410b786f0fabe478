import {
  createKeyspace,
  InvalidArgumentError,
  jsonSerializer,
  type Keyspace,
  type RedisConnection,
  type RedisLike,
  type Serializer,
  toConnection,
} from '@redis-patterns/connection';
import {
  checkDuration,
  checkInteger,
  checkOptions,
  checkSerializer,
} from '@redis-patterns/connection/internal';

/**
 * connect-redis's serializer shape, accepted as is so `serializer: JSON` (or any object with
 * `stringify` and `parse`) carries over unchanged.
 *
 * @example
 * ```ts
 * import { connect, createSessionStore } from '@redis-patterns/session';
 *
 * const sessions = createSessionStore({ redis: await connect(), serializer: JSON });
 * ```
 */
export interface JsonLikeSerializer {
  /** Must return a string for every value it accepts, and throw for values it cannot represent. */
  stringify(value: unknown): string;
  /** Turns what `stringify` returned back into the value. */
  parse(text: string): unknown;
}

/** Options of {@link createSessionStore}. Durations are milliseconds. */
export interface SessionStoreOptions {
  /** A connection from `connect()` or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** Prefix of every key; must not contain `{` or `}`. @default 'session:' */
  prefix?: string;
  /** A session nobody reads for this long ends (OWASP: 15–30 min for low-risk apps). @default 1_800_000 (30 min) */
  idleTtlMs?: number;
  /** A session ends this long after it was created, however busy (OWASP: 4–8 h). @default 28_800_000 (8 h) */
  absoluteTtlMs?: number;
  /**
   * Reads skip the refresh write when the last refresh is younger than this, so a busy user costs
   * one read per request, not a read and a write; saves and updates skip sliding the TTL by the
   * same rule. 0 refreshes on every read and write. Must be < idleTtlMs.
   * @default min(60_000, idleTtlMs / 10)
   */
  touchAfterMs?: number;
  /**
   * How each top-level data property is stored: the shared {@link Serializer}, whose `serialize`
   * must return a string here (sessions are stored as text; bytes fail the write before anything
   * is written), or connect-redis's `{ stringify, parse }` such as `JSON`, used through those two
   * when an object has both shapes. JSON loses `Date`, `Map`, `BigInt` types.
   * @default JSON
   * @example
   * ```ts
   * import superjson from 'superjson'; // keeps Date, Map, Set, BigInt
   *
   * const sessions = createSessionStore({
   *   redis,
   *   serializer: {
   *     serialize: (value) => superjson.stringify(value),
   *     deserialize: (text) => superjson.parse(String(text)),
   *   },
   * });
   * ```
   */
  serializer?: Serializer | JsonLikeSerializer;
  /** Largest serialized session (property names plus values, in bytes); larger writes are refused. @default 65_536 */
  maxSizeBytes?: number;
}

/** The options after defaults, shared by the store and the adapters. */
export interface ResolvedOptions {
  conn: RedisConnection;
  keys: Keyspace;
  idleTtlMs: number;
  absoluteTtlMs: number;
  touchAfterMs: number;
  serializer: Serializer;
  maxSizeBytes: number;
}

/** Validates every option (throwing {@link InvalidArgumentError}) and applies the defaults, in one place. */
export function resolveOptions(options: SessionStoreOptions): ResolvedOptions {
  if (options === undefined)
    throw new InvalidArgumentError('options', 'expected an object with at least `redis`.');
  checkOptions('options', options, 'an object with at least `redis`');
  checkDuration('idleTtlMs', options.idleTtlMs);
  checkDuration('absoluteTtlMs', options.absoluteTtlMs);
  checkDuration('touchAfterMs', options.touchAfterMs, { allowZero: true });
  checkInteger('maxSizeBytes', options.maxSizeBytes, 1);
  for (const name of ['idleTtlMs', 'absoluteTtlMs', 'touchAfterMs'] as const) {
    const value = options[name];
    if (value !== undefined && !Number.isInteger(value)) {
      throw new InvalidArgumentError(name, `expected whole milliseconds, got ${value}.`);
    }
  }
  const serializer = resolveSerializer(options.serializer);
  const idleTtlMs = options.idleTtlMs ?? 30 * 60_000;
  const touchAfterMs = options.touchAfterMs ?? Math.min(60_000, Math.floor(idleTtlMs / 10));
  if (touchAfterMs >= idleTtlMs) {
    throw new InvalidArgumentError(
      'touchAfterMs',
      `is ${touchAfterMs} but must be below idleTtlMs (${idleTtlMs}), or sessions would expire between refreshes.`,
    );
  }
  return {
    conn: toConnection(options.redis),
    keys: createKeyspace(options.prefix ?? 'session:'),
    idleTtlMs,
    absoluteTtlMs: options.absoluteTtlMs ?? 8 * 3_600_000,
    touchAfterMs,
    serializer,
    maxSizeBytes: options.maxSizeBytes ?? 65_536,
  };
}

/**
 * The serializer option as the shared shape. `{ stringify, parse }` wins when an object has both
 * shapes: superjson, for one, has both, and its `serialize` returns an object, not text.
 */
function resolveSerializer(value: unknown): Serializer {
  if (value === undefined) return jsonSerializer;
  const candidate = value as Partial<Serializer & JsonLikeSerializer> | null;
  if (typeof candidate?.stringify === 'function' && typeof candidate.parse === 'function') {
    const json = candidate as JsonLikeSerializer;
    return {
      serialize: (item) => json.stringify(item),
      deserialize: (payload) => json.parse(String(payload)),
    };
  }
  if (typeof candidate?.serialize !== 'function' || typeof candidate.deserialize !== 'function') {
    throw new InvalidArgumentError(
      'serializer',
      'expected { serialize(value), deserialize(payload) }, or { stringify(value), parse(text) } such as JSON.',
    );
  }
  return checkSerializer('serializer', value, jsonSerializer);
}
