/** Any session data: an object whose top-level properties are stored (and patched) one by one. */
export type SessionData = Record<string, unknown>;

/** A live session. Times are epoch milliseconds on the Redis server's clock. */
export interface Session<Data extends object = SessionData> {
  /** The secret token to hand to the client (cookie); Redis only holds its SHA-256. */
  id: string;
  /** The session's properties, as stored (a fresh copy: changing it changes nothing in Redis). */
  data: Data;
  /** The user the session is bound to, if any (set by `create` or `regenerate`). */
  userId: string | undefined;
  /** When the session began (kept across `regenerate` unless its lifetime restarts). */
  createdAt: number;
  /** When it ends unless read again: min(last refresh + idleTtlMs, absoluteExpiresAt). */
  expiresAt: number;
  /** When it ends however busy: creation (or a lifetime restart) + absoluteTtlMs. */
  absoluteExpiresAt: number;
}

/** A session as `listForUser` sees it: identified by its handle, since Redis never holds the id. */
export interface SessionSummary<Data extends object = SessionData> extends Omit<Session<Data>, 'id'> {
  /** base64url(SHA-256(id)): pass it to `revoke`, show it as a device key; it cannot act as the id. */
  handle: string;
}

/** A shallow patch: listed properties are replaced, those set to `undefined` are removed. */
export type SessionPatch<Data extends object> = { [K in keyof Data]?: Data[K] | undefined };

/** The session API returned by `createSessionStore`. */
export interface SessionStore<Data extends object = SessionData> {
  /** The idle timeout in force (option `idleTtlMs` or its default). */
  readonly idleTtlMs: number;
  /** The absolute lifetime in force (option `absoluteTtlMs` or its default). */
  readonly absoluteTtlMs: number;
  /** The refresh-skipping window in force (option `touchAfterMs` or its default). */
  readonly touchAfterMs: number;
  /** Starts a session with a new 256-bit id; `userId` adds it to that user's list. */
  create(data: Data, options?: { userId?: string }): Promise<Session<Data>>;
  /**
   * The session, with its idle TTL slid in the same round trip (skipped within touchAfterMs, never
   * past the absolute expiry); null for unknown or expired ids, and for malformed ids without a
   * call to Redis.
   */
  get(id: string): Promise<Session<Data> | null>;
  /** Slides the idle TTL like `get` without reading the data; false if the session is gone. */
  touch(id: string): Promise<boolean>;
  /**
   * Changes the data; false if the session is gone (it is never recreated). A patch object is merged
   * atomically in one round trip, so concurrent patches of different properties all land; a function
   * gets the current data and is retried on a concurrent change (compare-and-set on a version).
   */
  update(id: string, change: SessionPatch<Data> | ((data: Data) => Data | Promise<Data>)): Promise<boolean>;
  /** Ends the session; false if it did not exist. */
  destroy(id: string): Promise<boolean>;
  /**
   * Moves the session to a new id (same data) and kills the old id first: call it on login and on
   * privilege changes (session fixation). `userId` binds the new session to a user;
   * `restartLifetime` starts a new absolute lifetime (default: keep the old one). Null if the
   * session is gone.
   */
  regenerate(
    id: string,
    options?: { userId?: string; restartLifetime?: boolean },
  ): Promise<Session<Data> | null>;
  /** The user's live sessions, oldest first. */
  listForUser(userId: string): Promise<SessionSummary<Data>[]>;
  /** Ends every session of the user ("log out everywhere"), but `except` (an id); returns how many ended. */
  destroyAllForUser(userId: string, options?: { except?: string }): Promise<number>;
  /** Ends a session by its handle (from `listForUser`); false if it did not exist. */
  revoke(handle: string): Promise<boolean>;
  /**
   * Refuses later calls, here and in the framework adapters made from this store, with
   * `ClosedError`; calls already made finish on their own. The connection stays open: close it
   * yourself.
   */
  close(): Promise<void>;
  /** Same as {@link SessionStore.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
