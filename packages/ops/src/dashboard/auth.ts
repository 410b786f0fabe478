import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { TokenThrottle } from './throttle.js';

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

/** The address a request came from, for counting wrong tokens. */
function addressOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** The logins of one dashboard: random session ids kept server-side, each with its CSRF value. */
export class Logins {
  readonly #sessions = new Map<string, { csrf: string; expiresAt: number }>();
  readonly #throttle = new TokenThrottle();
  /** The CSRF value of the page when the host app does the authentication (`token: false`). */
  readonly hostCsrf = randomSecret();
  /**
   * The login cookie's name, with a suffix of its own: cookies are not scoped to a port, so two
   * dashboards on one host would otherwise overwrite each other's.
   */
  readonly cookie = `rp_dashboard_${randomBytes(6).toString('hex')}`;

  constructor(readonly token: string | false) {}

  /**
   * Starts a login when `given` is the token; returns its session id, or undefined. Throws a 429
   * HttpError while `req`'s address (or everyone) is locked out for too many wrong tokens.
   */
  login(req: IncomingMessage, given: unknown): string | undefined {
    if (this.token === false) return undefined;
    this.#throttle.check(addressOf(req));
    if (typeof given !== 'string' || !sameSecret(given, this.token)) {
      this.#throttle.failed(addressOf(req));
      return undefined;
    }
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
    const id = cookieOf(req, this.cookie);
    if (id !== undefined) this.#sessions.delete(id);
  }

  /**
   * Who sent `req`: by cookie, by `Authorization: Bearer`, or anyone when the host app authenticates.
   * A bearer token counts against the same lockout as a login (429 while locked out).
   */
  callerOf(req: IncomingMessage): Caller | undefined {
    if (this.token === false) return { kind: 'host-app', csrf: this.hostCsrf };
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      this.#throttle.check(addressOf(req));
      if (sameSecret(auth.slice('Bearer '.length).trim(), this.token)) return { kind: 'bearer' };
      this.#throttle.failed(addressOf(req));
      return undefined;
    }
    const id = cookieOf(req, this.cookie);
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

/**
 * The Set-Cookie value of login cookie `name` (or of its end, with an empty id), scoped to the
 * mount path; `Secure` when `req` came over TLS to this server.
 */
export function loginCookie(name: string, id: string, path: string, req: IncomingMessage): string {
  const age = id === '' ? 0 : Math.floor(LOGIN_TTL_MS / 1000);
  const secure = (req.socket as Partial<TLSSocket>).encrypted === true ? '; Secure' : '';
  return `${name}=${id}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${age}${secure}`;
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
