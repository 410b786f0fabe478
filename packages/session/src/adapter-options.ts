import { checkKeyPart, InvalidArgumentError } from '@redis-patterns/connection';
import { checkDuration, checkOptions } from '@redis-patterns/connection/internal';
import type { SessionData } from './types.js';

/** Options shared by the express-session and @fastify/session adapters. */
export interface AdapterOptions {
  /**
   * The user a session belongs to, read from its data on every save, so `listForUser` and
   * `destroyAllForUser` see framework sessions; returning undefined unbinds it.
   * @default undefined (sessions are not indexed by user)
   */
  userIdOf?: (session: SessionData) => string | undefined;
  /**
   * What decides how long a session lives in Redis.
   * - `'cookie'` (the default, as connect-redis does): the session cookie. A cookie with a
   *   `maxAge` is the session's idle timeout, slid by every read (a "remember me" cookie of 30
   *   days keeps its session 30 days, a 60 s cookie ends it after 60 idle seconds); a cookie with a
   *   fixed `expires` ends the session then; a browser-session cookie (neither) uses the store's
   *   `idleTtlMs`. A save whose cookie has expired destroys the session. `absoluteTtlMs` below
   *   bounds all of them.
   * - `'store'`: the store's `idleTtlMs` and `absoluteTtlMs`, whatever the cookie says: a policy
   *   the server enforces (OWASP's idle and absolute timeouts) even for a client that keeps an
   *   old cookie.
   * @default 'cookie'
   */
  lifetime?: 'cookie' | 'store';
  /**
   * With `lifetime: 'cookie'`: the longest a session lives from its creation, however active.
   * The store's own `absoluteTtlMs` applies to `lifetime: 'store'` only.
   * @default 34_560_000_000 (400 days: the longest a browser keeps a cookie, RFC 6265bis)
   */
  absoluteTtlMs?: number;
  /**
   * Reads sessions that connect-redis wrote, so a switch does not log everyone out: a session
   * id missing here is looked up once under `prefix + id`, written here (with a lifetime from its
   * cookie) and deleted there. Each miss costs two more round trips (a GET there, a second read
   * here), so remove the option once the old sessions have expired (connect-redis's default TTL
   * is one day).
   * @default undefined (no migration)
   */
  migrateFrom?: LegacyStore;
}

/** Where connect-redis kept its sessions: its `prefix` and `serializer` options. */
export interface LegacyStore {
  /** connect-redis's `prefix`. @default 'sess:' */
  prefix?: string;
  /** connect-redis's `serializer` (only `parse` is used). @default JSON */
  serializer?: LegacySerializer;
}

/** The part of connect-redis's serializer that reading its sessions needs. */
export interface LegacySerializer {
  /** Turns the text connect-redis stored for a session back into the session. */
  parse(text: string): unknown;
}

/** The adapter options after checks and defaults. */
export interface ResolvedAdapterOptions {
  userIdOf: AdapterOptions['userIdOf'];
  /** The lifetime cap for cookie-driven sessions; undefined with lifetime 'store'. */
  cookieCapMs: number | undefined;
  legacy: { prefix: string; parse(text: string): unknown } | undefined;
}

/** 400 days, the most RFC 6265bis lets a cookie's Expires or Max-Age reach. */
export const COOKIE_CAP_MS = 400 * 86_400_000;

/** Validates the adapter options (throwing {@link InvalidArgumentError}) and applies the defaults. */
export function resolveAdapterOptions(given: AdapterOptions | undefined): ResolvedAdapterOptions {
  const options = checkOptions('options', given, '{ userIdOf?, lifetime?, absoluteTtlMs?, migrateFrom? }');
  const { userIdOf, lifetime = 'cookie', absoluteTtlMs, migrateFrom } = options;
  if (userIdOf !== undefined && typeof userIdOf !== 'function') {
    throw new InvalidArgumentError('userIdOf', 'expected a function (session) => userId | undefined.');
  }
  if (lifetime !== 'cookie' && lifetime !== 'store') {
    throw new InvalidArgumentError('lifetime', `expected 'cookie' or 'store', got ${String(lifetime)}.`);
  }
  checkDuration('absoluteTtlMs', absoluteTtlMs);
  if (absoluteTtlMs !== undefined && lifetime === 'store') {
    throw new InvalidArgumentError(
      'absoluteTtlMs',
      "applies to lifetime: 'cookie' only; with lifetime: 'store', set the store's absoluteTtlMs.",
    );
  }
  return {
    userIdOf,
    cookieCapMs: lifetime === 'cookie' ? Math.round(absoluteTtlMs ?? COOKIE_CAP_MS) : undefined,
    legacy: migrateFrom === undefined ? undefined : resolveLegacy(migrateFrom),
  };
}

function resolveLegacy(given: LegacyStore): ResolvedAdapterOptions['legacy'] {
  const legacy = checkOptions('migrateFrom', given, '{ prefix?, serializer? }');
  const prefix = legacy.prefix ?? 'sess:';
  if (typeof prefix !== 'string') throw new InvalidArgumentError('migrateFrom.prefix', 'expected a string.');
  if (prefix !== '') checkKeyPart('migrateFrom.prefix', prefix);
  const serializer = legacy.serializer ?? JSON;
  if (typeof serializer?.parse !== 'function') {
    throw new InvalidArgumentError('migrateFrom.serializer', 'expected { parse(text) }, such as JSON.');
  }
  return { prefix, parse: (text) => serializer.parse(text) };
}
