import calculateSlot from 'cluster-key-slot';
import { InvalidArgumentError } from './errors.js';

/** Keys longer than this are refused: Redis accepts 512 MB keys, but such keys are always a bug. */
export const MAX_KEY_PART_LENGTH = 1024;

/**
 * Builds the keys of one pattern: `<prefix>{<tag>}:<part>:<part>`. Everything that must live in one
 * Cluster slot (a queue's lists, a lock and its fencing counter, a limiter identity) shares a tag,
 * so multi-key scripts and transactions work on Cluster unchanged.
 *
 * @example
 * ```ts
 * const keys = createKeyspace('app:lock:');
 * keys.key('invoices', 'owner') // 'app:lock:{invoices}:owner'
 * keys.pattern('inv*')          // 'app:lock:{inv\*}*' for SCAN, user glob chars literal
 * ```
 */
export interface Keyspace {
  /** Prepended to every key, e.g. `app:lock:`. */
  readonly prefix: string;
  /** The key for `tag` and optional sub-parts, e.g. `key('orders', 'waiting')`. */
  key(tag: string, ...parts: string[]): string;
  /** A SCAN MATCH pattern for every key of `tag` (literal; glob characters escaped). */
  pattern(tag?: string): string;
  /** Recovers the tag from a key built by this keyspace, or undefined for a foreign key. */
  tagOf(key: string): string | undefined;
}

/** Creates a {@link Keyspace}; the prefix may be empty but must not contain `{` or `}`. */
export function createKeyspace(prefix: string): Keyspace {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new InvalidArgumentError(
      'prefix',
      'expected a string without { or } (they would break hash tags).',
    );
  }
  if (prefix.length > MAX_KEY_PART_LENGTH) {
    throw new InvalidArgumentError('prefix', `is longer than ${MAX_KEY_PART_LENGTH} characters.`);
  }
  return {
    prefix,
    key(tag, ...parts) {
      checkKeyPart('name', tag);
      let key = `${prefix}{${encodeTag(tag)}}`;
      for (const part of parts) key += `:${part}`;
      return key;
    },
    pattern(tag) {
      const escapedPrefix = escapeGlob(prefix);
      if (tag === undefined) return `${escapedPrefix}*`;
      checkKeyPart('name', tag);
      return `${escapedPrefix}${escapeGlob(`{${encodeTag(tag)}}`)}*`;
    },
    tagOf(key) {
      if (!key.startsWith(prefix)) return undefined;
      const m = /^\{([^}]*)\}/.exec(key.slice(prefix.length));
      return m?.[1] === undefined ? undefined : decodeTag(m[1]);
    },
  };
}

/** Throws {@link InvalidArgumentError} for an empty, non-string or over-long key part. */
export function checkKeyPart(argument: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(argument, `expected a non-empty string, got ${describe(value)}.`);
  }
  if (value.length > MAX_KEY_PART_LENGTH) {
    throw new InvalidArgumentError(
      argument,
      `is ${value.length} characters; the limit is ${MAX_KEY_PART_LENGTH}.`,
    );
  }
}

/**
 * Redis hashes the text between the first `{` and the next `}`. Percent-encoding `%`, `{` and `}`
 * keeps any user id (even one with braces) inside its own tag, injectively.
 */
function encodeTag(tag: string): string {
  return /[%{}]/.test(tag)
    ? tag.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : tag;
}

function decodeTag(tag: string): string {
  return tag.includes('%')
    ? tag.replace(/%(25|7B|7D)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    : tag;
}

/** Escapes `* ? [ ] \` so a user-supplied part matches literally in SCAN MATCH / KEYS patterns. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** The Cluster hash slot (0-16383) of a key, honouring `{hash tags}`. */
export function slotOf(key: string | Buffer): number {
  return calculateSlot(key);
}

/**
 * The part of `key` Redis hashes for its slot: the first non-empty `{tag}`, else the whole key.
 * Commands on keys of one tag keep their order on a connection; a batch split into several calls
 * should keep each tag's keys in one call (see {@link RedisConnection.groupBySlot}).
 *
 * @example
 * ```ts
 * tagOf('rl:{user-42}:fixed') // 'user-42'
 * ```
 */
export function tagOf(key: string): string {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/**
 * A cheap hash (FNV-1a over UTF-16 code units) of the part of `key` Redis hashes for its slot: the
 * first non-empty `{tag}`, else the whole key. Keys of one slot by tag always agree; it is not the
 * slot itself (see {@link slotOf}), just a fast stand-in for spreading keys over sockets.
 * @internal
 */
export function tagHash(key: string): number {
  let from = 0;
  let to = key.length;
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : JSON.stringify(value);
  return value === null ? 'null' : typeof value;
}
