import type { Meta } from '../codec.js';

/** Who a write binds the session to. */
export type UserChange = { op: 'keep' } | { op: 'set'; userId: string } | { op: 'unset' };

/** Outcome of a write. `gone`: the session no longer exists (nothing was written). */
export type WriteResult =
  | { status: 'ok'; now: number; meta: Meta }
  | { status: 'gone' }
  | { status: 'conflict' }
  | { status: 'too-large'; size: number };

/**
 * Outcome of a create. `exists`: the key is taken (a live session, or a tombstone: for a new id,
 * a destroyAllForUser that reached its index entry first).
 */
export type CreateResult =
  | { status: 'created'; now: number; createdAt: number; absoluteExpiresAt: number }
  | { status: 'exists' | 'expired' };

/** A session's lifetime set from a framework cookie (src/lua/lib/relife.lua). */
export interface Lifetime {
  /** The longest the session lives from its creation (ms). */
  capMs: number;
  /** The cookie's maxAge, the session's own idle timeout; undefined: the store's. */
  idleMs: number | undefined;
  /** The cookie's fixed expiry (epoch ms), when it has no maxAge. */
  fixedEnd: number | undefined;
}

/** The cap, own idle timeout and fixed end arguments of the update and touch scripts. */
export function lifetimeArgs(lifetime: Lifetime | undefined): string[] {
  if (lifetime === undefined) return ['', '', ''];
  const text = (ms: number | undefined) => (ms === undefined ? '' : String(ms));
  return [String(lifetime.capMs), text(lifetime.idleMs), text(lifetime.fixedEnd)];
}

/** A create script's reply (see lib/create-session.lua) as a {@link CreateResult}. */
export function createResult(reply: number[]): CreateResult {
  const [status, now, createdAt, absoluteExpiresAt] = reply as [number, number, number, number];
  if (status === 0) return { status: 'exists' };
  if (status === -1) return { status: 'expired' };
  return { status: 'created', now, createdAt, absoluteExpiresAt };
}
