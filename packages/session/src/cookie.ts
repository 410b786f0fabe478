import type { Meta } from './codec.js';
import type { Lifetime } from './commands/index.js';

// What the frameworks' session cookies say about a session's lifetime. express-session and
// @fastify/session both store the cookie with the session as `cookie: { originalMaxAge, expires,
// ... }`: `originalMaxAge` (ms) for a cookie renewed with every response that sets it, `expires`
// (a Date, or its ISO string once stored) for when the browser drops it.

interface CookieFields {
  originalMaxAge?: unknown;
  expires?: unknown;
}

const cookieOf = (session: object): CookieFields | undefined => {
  const cookie = (session as { cookie?: unknown }).cookie;
  return cookie !== null && typeof cookie === 'object' ? (cookie as CookieFields) : undefined;
};

const timeOf = (value: unknown): number | undefined => {
  if (value === null || value === undefined) return undefined;
  const time = new Date(value as string | number | Date).getTime();
  return Number.isFinite(time) ? time : undefined;
};

const maxAgeOf = (cookie: CookieFields): number | undefined =>
  typeof cookie.originalMaxAge === 'number' && Number.isFinite(cookie.originalMaxAge)
    ? Math.round(cookie.originalMaxAge)
    : undefined;

/**
 * The lifetime a session's cookie asks for, or `'ended'` when the cookie has expired (a save then
 * destroys the session, as connect-redis does). `capMs` bounds every session from its creation.
 */
export function lifetimeOf(session: object, capMs: number, now = Date.now()): Lifetime | 'ended' {
  const cookie = cookieOf(session);
  if (cookie === undefined) return { capMs, idleMs: undefined, fixedEnd: undefined };
  const expires = timeOf(cookie.expires);
  const maxAge = maxAgeOf(cookie);
  if ((expires !== undefined && expires <= now) || (maxAge !== undefined && maxAge <= 0)) return 'ended';
  if (maxAge !== undefined) return { capMs, idleMs: maxAge, fixedEnd: undefined };
  if (expires !== undefined) return { capMs, idleMs: expires - now, fixedEnd: expires };
  return { capMs, idleMs: undefined, fixedEnd: undefined };
}

/**
 * What a save compares to tell whether the lifetime changed: a renewed cookie's maxAge, a fixed
 * cookie's end, or nothing. For a stored session, `ownIdleMs` says whether Redis follows the cookie
 * at all (a session written with lifetime 'store' does not, whatever its cookie says).
 */
export function lifetimeKey(lifetime: Lifetime | undefined): string {
  if (lifetime === undefined || lifetime.idleMs === undefined) return 'store';
  return lifetime.fixedEnd === undefined ? `idle:${lifetime.idleMs}` : `end:${lifetime.fixedEnd}`;
}

/** Drift of a cookie's maxAge that is not a new lifetime (see {@link sameLifetime}). */
const IDLE_DRIFT_MS = 1_000;

/**
 * Whether a cookie's lifetime key is the one Redis has. express-session 1.19 recomputes
 * `originalMaxAge` from two clock reads each time it resets the expiry, so it loses a millisecond
 * whenever the clock ticks between them; an idle timeout that moved by less than a second is the
 * same lifetime, so such a request neither writes a new one nor runs a refresh.
 */
export function sameLifetime(key: string, stored: string | undefined): boolean {
  if (key === stored) return true;
  if (stored === undefined || !key.startsWith('idle:') || !stored.startsWith('idle:')) return false;
  return Math.abs(Number(key.slice(5)) - Number(stored.slice(5))) < IDLE_DRIFT_MS;
}

/** {@link lifetimeKey} of a session as read: from its stored cookie and its `i` field. */
export function storedLifetimeKey(data: object, meta: Meta): string {
  if (meta.ownIdleMs === undefined) return 'store';
  const cookie = cookieOf(data);
  const maxAge = cookie === undefined ? undefined : maxAgeOf(cookie);
  if (maxAge !== undefined) return `idle:${maxAge}`;
  const expires = cookie === undefined ? undefined : timeOf(cookie.expires);
  return expires === undefined ? 'store' : `end:${expires}`;
}

/**
 * Sets a read session's renewed cookie to expire when Redis will drop the session. The cookie is
 * not rewritten on every request (only a change of lifetime is written), so the stored `expires`
 * is that of the last write; @fastify/session ends a session whose stored expiry has passed, which
 * would log an active user out. A fixed-expiry cookie is left as stored.
 */
export function renewCookie(data: object, expiresAt: number): void {
  const cookie = cookieOf(data);
  if (cookie === undefined || maxAgeOf(cookie) === undefined || cookie.expires == null) return;
  cookie.expires = new Date(expiresAt).toISOString();
}
