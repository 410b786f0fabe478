import type { Request } from 'express';
import { type SessionData as ExpressSessionData, type Session, Store } from 'express-session';
import { type AdapterOptions, FrameworkBridge } from './bridge.js';
import type { SessionStore } from './types.js';

export type { AdapterOptions };

/** Options of {@link createExpressStore}. */
export interface ExpressStoreOptions extends AdapterOptions {}

type Callback<T = unknown> = (err?: unknown, value?: T) => void;

// The callback runs outside the promise chain: an exception thrown by it must not be taken for a
// store failure and call it a second time.
function settle<T>(work: Promise<T>, callback: Callback<T> | undefined): void {
  work.then(
    (value) => callback && process.nextTick(callback, null, value),
    (err: unknown) => callback && process.nextTick(callback, err),
  );
}

/**
 * An express-session `Store` over a {@link SessionStore}. Pass `genid: store.genid` to
 * `session()`: ids must be the store's 256-bit ones (others are refused on save). Redis failures
 * reach express-session as typed errors, which it passes to `next(err)`.
 */
export class ExpressSessionStore extends Store {
  readonly #bridge: FrameworkBridge;

  /** The id generator to hand to express-session (`genid`). */
  readonly genid = (): string => this.#bridge.generateId();

  constructor(sessions: SessionStore<object>, options?: ExpressStoreOptions) {
    super();
    this.#bridge = new FrameworkBridge(sessions, options);
  }

  /** Reads the session and slides its idle TTL in the same round trip. */
  override get(sid: string, callback: (err: unknown, session?: ExpressSessionData | null) => void): void {
    settle(
      this.#bridge.load(sid) as Promise<ExpressSessionData | null>,
      callback as Callback<ExpressSessionData | null>,
    );
  }

  /** Writes what this request changed (a new session whole); never recreates a destroyed session. */
  override set(sid: string, session: ExpressSessionData, callback?: (err?: unknown) => void): void {
    settle(this.#bridge.save(sid, session), callback);
  }

  /** A no-op after this request's `get` (which refreshed the TTL); otherwise a refresh. */
  override touch(sid: string, session: ExpressSessionData, callback?: () => void): void {
    settle(this.#bridge.touch(sid, session), callback as Callback | undefined);
  }

  /** Ties the request's session object to the read it came from, so its save writes only its own changes. */
  override createSession(req: Request, data: ExpressSessionData): Session & ExpressSessionData {
    const session = super.createSession(req, data);
    this.#bridge.link(data, session);
    return session;
  }

  /** Ends the session (logout); other in-flight requests of it cannot bring it back. */
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    settle(this.#bridge.destroy(sid), callback);
  }

  /** Every live session, keyed by handle (SHA-256 of the id): Redis never holds the ids. */
  override all(
    callback: (err: unknown, sessions?: { [handle: string]: ExpressSessionData } | null) => void,
  ): void {
    const work = this.#bridge
      .all()
      .then((found) => Object.fromEntries(found) as unknown as { [handle: string]: ExpressSessionData });
    settle(work, callback as Callback<{ [handle: string]: ExpressSessionData }>);
  }

  /** How many live sessions the prefix holds (SCAN of every master). */
  override length(callback: (err: unknown, length?: number) => void): void {
    settle(
      this.#bridge.handles().then((handles) => handles.length),
      callback as Callback<number>,
    );
  }

  /** The handles of every live session (not ids: those are never stored); `revoke(handle)` ends one. */
  ids(callback: (err: unknown, handles?: string[]) => void): void {
    settle(this.#bridge.handles(), callback as Callback<string[]>);
  }

  /** Deletes every session and user index under the prefix, key by key (safe on Cluster). */
  override clear(callback?: (err?: unknown) => void): void {
    settle(this.#bridge.clear(), callback);
  }
}

/**
 * An express-session store backed by `sessions`: reads slide the idle TTL in one round trip (a
 * request that changes nothing costs exactly one), saves write only what changed, and the
 * absolute lifetime is enforced server-side whatever the cookie says.
 *
 * @example
 * ```ts
 * import session from 'express-session';
 * import { createSessionStore } from '@redis-patterns/session';
 * import { createExpressStore } from '@redis-patterns/session/express';
 *
 * const sessions = createSessionStore({ redis, idleTtlMs: 30 * 60_000 });
 * const store = createExpressStore(sessions, { userIdOf: (s) => s.userId as string | undefined });
 * app.use(session({ store, genid: store.genid, secret, resave: false, saveUninitialized: false }));
 * ```
 */
export function createExpressStore(
  sessions: SessionStore<object>,
  options?: ExpressStoreOptions,
): ExpressSessionStore {
  return new ExpressSessionStore(sessions, options);
}
