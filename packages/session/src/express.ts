import type { Request } from 'express';
import { type SessionData as ExpressSessionData, type Session, Store } from 'express-session';
import { answer, type StoreCallback } from './answer.js';
import { type AdapterOptions, FrameworkBridge } from './bridge.js';
import { tracedAdapter } from './otel.js';
import type { SessionStore } from './types.js';

export type { AdapterOptions };

/** A session as {@link ExpressSessionStore.all} lists it: its data and its handle. */
export type SessionWithHandle = ExpressSessionData & {
  /** base64url(SHA-256(id)): what Redis holds instead of the id; pass it to `sessions.revoke`. */
  handle: string;
};

/** Options of {@link createExpressStore}. */
export interface ExpressStoreOptions extends AdapterOptions {}

/**
 * An express-session `Store` over a {@link SessionStore}. Pass `genid: store.genid` to
 * `session()` for 256-bit ids; other ids must hold a random part (the rule of `isFrameworkId`) or
 * are refused on save. Redis failures reach express-session as typed errors, which it passes to
 * `next(err)`.
 *
 * Every method takes a callback, as express-session passes one, or, without one, returns a
 * promise (as connect-redis does) that rejects with the typed error.
 *
 * @example
 * ```ts
 * const session = await store.get(req.sessionID); // the data, or null
 * await store.destroy(req.sessionID);
 * store.length((err, count) => console.log(err ?? count)); // the callback form
 * ```
 */
export class ExpressSessionStore extends Store {
  readonly #bridge: FrameworkBridge;

  /** The id generator to hand to express-session (`genid`). */
  readonly genid = (): string => this.#bridge.generateId();

  constructor(sessions: SessionStore<object>, options?: ExpressStoreOptions) {
    super();
    this.#bridge = new FrameworkBridge(sessions, options);
  }

  /** Reads the session and slides its idle TTL in the same round trip: the data, or null. */
  override get(sid: string): Promise<ExpressSessionData | null>;
  /** The callback form, which express-session uses. */
  override get(sid: string, callback: (err: unknown, session?: ExpressSessionData | null) => void): void;
  override get(
    sid: string,
    callback?: StoreCallback<ExpressSessionData | null>,
  ): Promise<ExpressSessionData | null> | undefined {
    return answer(
      tracedAdapter('express', 'load', () => this.#bridge.load(sid) as Promise<ExpressSessionData | null>),
      callback,
    );
  }

  /** Writes what this request changed (a new session whole); never recreates a destroyed session. */
  override set(sid: string, session: ExpressSessionData): Promise<void>;
  /** The callback form, which express-session uses. */
  override set(sid: string, session: ExpressSessionData, callback: (err?: unknown) => void): void;
  override set(
    sid: string,
    session: ExpressSessionData,
    callback?: StoreCallback<void>,
  ): Promise<void> | undefined {
    return answer(
      tracedAdapter('express', 'save', () => this.#bridge.save(sid, session)),
      callback,
    );
  }

  /**
   * A no-op while the last refresh this request saw keeps the key past the renewed cookie;
   * otherwise a refresh.
   */
  override touch(sid: string, session: ExpressSessionData): Promise<void>;
  /** The callback form, which express-session uses. */
  override touch(sid: string, session: ExpressSessionData, callback: () => void): void;
  override touch(
    sid: string,
    session: ExpressSessionData,
    callback?: StoreCallback<void>,
  ): Promise<void> | undefined {
    return answer(
      tracedAdapter('express', 'touch', () => this.#bridge.touch(sid, session)),
      callback,
    );
  }

  /** Ties the request's session object to the read it came from, so its save writes only its own changes. */
  override createSession(req: Request, data: ExpressSessionData): Session & ExpressSessionData {
    const session = super.createSession(req, data);
    this.#bridge.link(data, session);
    return session;
  }

  /** Ends the session (logout); other in-flight requests of it cannot bring it back. */
  override destroy(sid: string): Promise<void>;
  /** The callback form, which express-session uses. */
  override destroy(sid: string, callback: (err?: unknown) => void): void;
  override destroy(sid: string, callback?: StoreCallback<void>): Promise<void> | undefined {
    return answer(
      tracedAdapter('express', 'destroy', () => this.#bridge.destroy(sid)),
      callback,
    );
  }

  /**
   * Every live session, as connect-redis returns them (an array), each with its `handle`
   * (base64url(SHA-256(id))) where connect-redis puts its `id`: Redis never holds the ids here.
   * `sessions.revoke(handle)` ends one.
   */
  override all(): Promise<SessionWithHandle[]>;
  /** The callback form, which express-session's `Store` type declares. */
  override all(callback: (err: unknown, sessions?: SessionWithHandle[] | null) => void): void;
  override all(callback?: StoreCallback<SessionWithHandle[]>): Promise<SessionWithHandle[]> | undefined {
    const work = () =>
      this.#bridge
        .all()
        .then((found) =>
          [...found].map(([handle, data]) => ({ ...data, handle }) as unknown as SessionWithHandle),
        );
    return answer(tracedAdapter('express', 'all', work), callback);
  }

  /** How many live sessions the prefix holds (SCAN of every master). */
  override length(): Promise<number>;
  /** The callback form, which express-session's `Store` type declares. */
  override length(callback: (err: unknown, length?: number) => void): void;
  override length(callback?: StoreCallback<number>): Promise<number> | undefined {
    const work = () => this.#bridge.handles().then((handles) => handles.length);
    return answer(tracedAdapter('express', 'length', work), callback);
  }

  /** The handles of every live session (not ids: those are never stored); `revoke(handle)` ends one. */
  ids(): Promise<string[]>;
  /** The callback form. */
  ids(callback: (err: unknown, handles?: string[]) => void): void;
  ids(callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    return answer(
      tracedAdapter('express', 'ids', () => this.#bridge.handles()),
      callback,
    );
  }

  /** Deletes every session and user index under the prefix, key by key (safe on Cluster). */
  override clear(): Promise<void>;
  /** The callback form, which express-session's `Store` type declares. */
  override clear(callback: (err?: unknown) => void): void;
  override clear(callback?: StoreCallback<void>): Promise<void> | undefined {
    return answer(
      tracedAdapter('express', 'clear', () => this.#bridge.clear()),
      callback,
    );
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
