import { diff, type Fields, refreshSkip } from './codec.js';

/** What one request's read (or its first save) saw, to write back only what that request changed. */
export interface Snapshot {
  sid: string;
  at: number;
  fields: Fields;
  userId: string | undefined;
  /** The lifetime the session had in Redis (see cookie.ts, lifetimeKey). */
  lifetime: string;
  /** The data's version in Redis when `fields` were read or saved ('' = not known). */
  version: string;
  /** The session's last refresh (the server's ms) as the read or save saw it, and its own idle timeout. */
  refreshedAt: number;
  ownIdleMs: number | undefined;
}

/**
 * Whether the key outlives a cookie the framework renews now, with no write: Redis keeps it for the
 * skip window past its idle timeout after each refresh (src/lua/lib/window.lua), so while this
 * request's read or save saw a refresh that recent, a touch has nothing to do. The app's clock
 * against the server's refresh time, as reads decide. With touchAfterMs 0 the window is empty:
 * every touch refreshes.
 */
export function outlivesCookie(snapshot: Snapshot, touchAfterMs: number): boolean {
  return Date.now() - snapshot.refreshedAt < refreshSkip(snapshot.ownIdleMs, touchAfterMs);
}

// A snapshot lives from a request's read to its save or touch; the bounds only matter for requests
// that never get that far (errors, a destroy).
const MAX_SNAPSHOTS = 10_000;
const MAX_SNAPSHOT_AGE_MS = 5 * 60_000;

/**
 * The reads of framework sessions still waiting for their request's save. Each is found by the
 * session object the framework built from the read's data (express-session, a second save in one
 * request) or, failing that, among the reads of the same id.
 */
export class Snapshots {
  /** Live snapshots, oldest first, for eviction. */
  readonly #all = new Set<Snapshot>();
  readonly #bySid = new Map<string, Snapshot[]>();
  /** The data object a read returned, then the framework's session object built from it. */
  readonly #byObject = new WeakMap<object, Snapshot>();

  /** Remembers a read of `sid` that returned `data`. */
  remember(snapshot: Snapshot, data: object): void {
    this.#all.add(snapshot);
    const list = this.#bySid.get(snapshot.sid);
    if (list === undefined) this.#bySid.set(snapshot.sid, [snapshot]);
    else list.push(snapshot);
    this.#byObject.set(data, snapshot);
    for (const oldest of this.#all) {
      if (this.#all.size <= MAX_SNAPSHOTS && snapshot.at - oldest.at < MAX_SNAPSHOT_AGE_MS) break;
      this.#forget(oldest);
    }
  }

  /** Ties a session object to a snapshot: one a framework built from a read's data, or one just saved. */
  link(from: object, to: object): void {
    const snapshot = this.#byObject.get(from);
    if (snapshot !== undefined) this.#byObject.set(to, snapshot);
  }

  /** Records what a save of `session` wrote, so a second save of it in the same request diffs against it. */
  saved(session: object, snapshot: Snapshot): void {
    this.#byObject.set(session, snapshot);
  }

  /**
   * This request's snapshot, taken out: the one linked to its session object (if it was a read of
   * the same id), else, among the
   * reads of this session still in flight, the one its data differs least from (several requests
   * of one session at once), else the oldest. Whatever its age: a snapshot proves the session
   * existed, so the save must patch it (and find it gone if it was destroyed meanwhile), never
   * re-create it as a new session.
   */
  claim(sid: string, session: object | undefined, fields?: Fields): Snapshot | undefined {
    let snapshot = session === undefined ? undefined : this.#byObject.get(session);
    // One object saved under another id (a copy of a session) is a new session there.
    if (snapshot !== undefined && snapshot.sid !== sid) snapshot = undefined;
    else if (session !== undefined) this.#byObject.delete(session);
    if (snapshot === undefined) {
      const cost = (s: Snapshot) => {
        if (fields === undefined) return 0;
        const change = diff(s.fields, fields);
        return change.set.size + change.del.length;
      };
      for (const candidate of this.#bySid.get(sid) ?? [])
        if (snapshot === undefined || cost(candidate) < cost(snapshot)) snapshot = candidate;
    }
    if (snapshot !== undefined) this.#forget(snapshot);
    return snapshot;
  }

  #forget(snapshot: Snapshot): void {
    this.#all.delete(snapshot);
    const list = this.#bySid.get(snapshot.sid)?.filter((s) => s !== snapshot);
    if (list === undefined || list.length === 0) this.#bySid.delete(snapshot.sid);
    else this.#bySid.set(snapshot.sid, list);
  }
}
