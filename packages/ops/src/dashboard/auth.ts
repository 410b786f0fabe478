import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The name of the login cookie. */
export const COOKIE = 'rp_dashboard';
/** How long a login lasts. */
const LOGIN_TTL_MS = 12 * 3600_000;
/** Most logins kept at once; the oldest goes first (a flood of logins cannot grow memory). */
const MAX_LOGINS = 1000;

/** A random secret: 32 bytes, base64url. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares two secrets in time that does not depend on where they differ (hashing first evens the lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Who a request is: a login (cookie) with its CSRF value, a script (bearer token), or nobody. */
export type Caller =
  | { kind: 'login'; csrf: string }
  | { kind: 'bearer' }
  | { kind: 'host-app'; csrf: string };

/** The logins of one dashboard: random session ids kept server-side, each with its CSRF value. */
export class Logins {
  readonly #sessions = new Map<string, { csrf: string; expiresAt: number }>();
  /** The CSRF value of the page when the host app does the authentication (`token: false`). */
  readonly hostCsrf = randomSecret();

  constructor(readonly token: string | false) {}

  /** Starts a login when `given` is the token; returns its session id, or undefined. */
  login(given: unknown): string | undefined {
    if (this.token === false || typeof given !== 'string' || !sameSecret(given, this.token)) return undefined;
    if (this.#sessions.size >= MAX_LOGINS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    const id = randomSecret();
    this.#sessions.set(id, { csrf: randomSecret(), expiresAt: Date.now() + LOGIN_TTL_MS });
    return id;
  }

  /** Ends the login of `req`'s cookie, if any. */
  logout(req: IncomingMessage): void {
    const id = cookieOf(req, COOKIE);
    if (id !== undefined) this.#sessions.delete(id);
  }

  /** Who sent `req`: by cookie, by `Authorization: Bearer`, or anyone when the host app authenticates. */
  callerOf(req: IncomingMessage): Caller | undefined {
    if (this.token === false) return { kind: 'host-app', csrf: this.hostCsrf };
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      return sameSecret(auth.slice('Bearer '.length).trim(), this.token) ? { kind: 'bearer' } : undefined;
    }
    const id = cookieOf(req, COOKIE);
    const session = id === undefined ? undefined : this.#sessions.get(id);
    if (id === undefined || session === undefined) return undefined;
    if (session.expiresAt < Date.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return { kind: 'login', csrf: session.csrf };
  }
}

/** The value of cookie `name` in `req`, if sent. */
function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value of a login (or of its end, with an empty id), scoped to the mount path. */
export function loginCookie(id: string, path: string): string {
  const age = id === '' ? 0 : Math.floor(LOGIN_TTL_MS / 1000);
  return `${COOKIE}=${id}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${age}`;
}

/**
 * Why a mutating request is refused, or undefined when it may go on: a login must send the page's
 * CSRF value in `X-CSRF-Token` (a bearer token is no ambient credential, so a script needs none),
 * and an `Origin`, when the browser sends one, must be this very host.
 */
export function refusedWrite(req: IncomingMessage, caller: Caller): string | undefined {
  if (!originMatches(req)) return 'the Origin header does not match the Host.';
  if (caller.kind === 'bearer') return undefined;
  const sent = req.headers['x-csrf-token'];
  if (typeof sent !== 'string' || !sameSecret(sent, caller.csrf))
    return 'missing or wrong X-CSRF-Token header.';
  return undefined;
}

/** True when `req` has no Origin, or one whose host is the Host header's. */
export function originMatches(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** True when the Host header names one of `allowed` (any port); true for any host without a list. */
export function hostAllowed(req: IncomingMessage, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  const host = req.headers.host;
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return allowed.includes(name.toLowerCase());
}
