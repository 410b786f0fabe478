import { InvalidArgumentError } from '@redis-patterns/connection';
import { checkOptions } from '@redis-patterns/connection/internal';
import {
  checkData,
  checkSize,
  checkUserId,
  decodeFields,
  diff,
  encodeData,
  type Fields,
  fieldsOf,
  sizeOf,
} from './codec.js';
import type { UserChange } from './commands.js';
import { generateId, handleOf } from './ids.js';
import { allSessions, clearPrefix, liveHandles } from './listing.js';
import { commandsOf } from './store.js';
import type { SessionData, SessionStore } from './types.js';

/** Options shared by the express-session and @fastify/session adapters. */
export interface AdapterOptions {
  /**
   * The user a session belongs to, read from its data on every save, so `listForUser` and
   * `destroyAllForUser` see framework sessions; returning undefined unbinds it.
   * @default undefined (sessions are not indexed by user)
   */
  userIdOf?: (session: SessionData) => string | undefined;
}

/** What one request's read saw, to write back only what that request changed. */
interface Snapshot {
  sid: string;
  at: number;
  refreshed: boolean;
  fields: Fields;
  userId: string | undefined;
}

// A snapshot lives from a request's read to its save or touch; the bounds only matter for requests
// that never get that far (errors, a destroy).
const MAX_SNAPSHOTS = 10_000;
const MAX_SNAPSHOT_AGE_MS = 5 * 60_000;
const COOKIE = 'cookie';

// Framework ids: the store's own 43-character ids (recommended: 256 bits), but also the frameworks'
// default 32-character ones (192 bits), so a missing genid does not silently break every session.
const FRAMEWORK_ID = /^[A-Za-z0-9_-]{32,128}$/;
const isFrameworkId = (sid: unknown): sid is string => typeof sid === 'string' && FRAMEWORK_ID.test(sid);

/**
 * The part of a framework store that both adapters share. Frameworks hand the store the whole
 * session on every save; writing it whole would let a slow request erase what a fast one wrote
 * meanwhile (the classic lost update of session stores), and re-create a session that a logout
 * destroyed meanwhile. Instead each save writes only the properties that changed since that
 * request's read, as one atomic patch that never recreates a session. A change to `cookie` alone
 * (rolling expiry) is written only together with a refresh, so within `touchAfterMs` a request costs
 * one Redis round trip.
 */
export class FrameworkBridge {
  readonly #sessions: SessionStore<object>;
  readonly #userIdOf: AdapterOptions['userIdOf'];
  /** Live snapshots, oldest first, for eviction. */
  readonly #snapshots = new Set<Snapshot>();
  readonly #bySid = new Map<string, Snapshot[]>();
  /** The data object a read returned, then the framework's session object built from it (express). */
  readonly #byObject = new WeakMap<object, Snapshot>();

  constructor(sessions: SessionStore<object>, given?: AdapterOptions) {
    const options = checkOptions('options', given, '{ userIdOf? }');
    commandsOf(sessions);
    if (options.userIdOf !== undefined && typeof options.userIdOf !== 'function') {
      throw new InvalidArgumentError('userIdOf', 'expected a function (session) => userId | undefined.');
    }
    this.#sessions = sessions;
    this.#userIdOf = options.userIdOf;
  }

  get #commands() {
    return commandsOf(this.#sessions);
  }

  /** A new 256-bit session id for the framework's id generator option. */
  generateId(): string {
    return generateId();
  }

  async load(sid: string): Promise<SessionData | null> {
    if (!isFrameworkId(sid)) return null;
    const loaded = await this.#commands.read(handleOf(sid));
    if (loaded === null) return null;
    const fields = fieldsOf(loaded.blob);
    const data = decodeFields(this.#commands.opts.serializer, fields);
    const snapshot = {
      sid,
      at: Date.now(),
      refreshed: loaded.refreshed,
      fields,
      userId: loaded.meta.userId,
    };
    this.#remember(snapshot);
    this.#byObject.set(data, snapshot);
    return data;
  }

  /** Ties the session object a framework built from `data` to the read that returned `data`. */
  link(data: object, session: object): void {
    const snapshot = this.#byObject.get(data);
    if (snapshot !== undefined) this.#byObject.set(session, snapshot);
  }

  async save(sid: string, session: unknown): Promise<void> {
    if (!isFrameworkId(sid)) {
      throw new InvalidArgumentError(
        'sid',
        "expected 32-128 URL-safe characters; pass the store's generator to the framework (express-session: genid: store.genid, @fastify/session: idGenerator: store.idGenerator).",
      );
    }
    checkData('session', session);
    const { serializer, maxSizeBytes } = this.#commands.opts;
    const fields = encodeData(serializer, session);
    checkSize(sizeOf(fields), maxSizeBytes);
    const user = this.#userChange(session);
    const handle = handleOf(sid);
    const snapshot = this.#claim(sid, session, fields);
    if (snapshot !== undefined) {
      const change = diff(snapshot.fields, fields);
      const userOp = sameUser(user, snapshot.userId) ? ({ op: 'keep' } as const) : user;
      const cookieOnly = change.del.length === 0 && [...change.set.keys()].every((name) => name === COOKIE);
      if (userOp.op === 'keep' && cookieOnly && (change.set.size === 0 || !snapshot.refreshed)) return;
      const result = await this.#commands.write(handle, change, {
        mode: 'patch',
        user: userOp,
        knownUserId: snapshot.userId,
      });
      if (result.status === 'too-large') checkSize(result.size, maxSizeBytes);
      // A second save of the same object in this request diffs against what this one stored.
      if (result.status === 'ok') {
        this.#byObject.set(session, { ...snapshot, fields, refreshed: true, userId: result.meta.userId });
      }
      // 'gone': destroyed or expired during the request; it stays gone.
      return;
    }
    const created = await this.#commands.create(handle, fields, {
      userId: user.op === 'set' ? user.userId : undefined,
    });
    if (created.status !== 'exists') return;
    // Saved twice in one request without a link to the first save, or by code that never read
    // it: replace the data as a whole.
    const result = await this.#commands.write(handle, { set: fields, del: [] }, { mode: 'replace', user });
    if (result.status === 'too-large') checkSize(result.size, maxSizeBytes);
  }

  async touch(sid: string, session?: object): Promise<void> {
    const snapshot = this.#claim(sid, session);
    // The read at the start of this request already refreshed (or rightly skipped) the TTL.
    if (snapshot !== undefined && Date.now() - snapshot.at < Math.max(this.#sessions.touchAfterMs, 1_000))
      return;
    if (isFrameworkId(sid)) await this.#commands.touch(handleOf(sid));
  }

  /** Other requests' snapshots of this session stay: their saves must find it gone, not re-create it. */
  async destroy(sid: string): Promise<void> {
    if (isFrameworkId(sid)) await this.#commands.destroy(handleOf(sid));
  }

  /** Every live session under the prefix, keyed by handle (Redis holds no ids); SCANs every master. */
  all(): Promise<Map<string, SessionData>> {
    return allSessions(this.#commands);
  }

  /** The handles of every live session under the prefix. */
  handles(): Promise<string[]> {
    return liveHandles(this.#commands);
  }

  /** Deletes every key under the prefix. */
  clear(): Promise<void> {
    return clearPrefix(this.#commands);
  }

  #userChange(session: SessionData): UserChange {
    if (this.#userIdOf === undefined) return { op: 'keep' };
    const userId = this.#userIdOf(session);
    if (userId === undefined) return { op: 'unset' };
    checkUserId('userIdOf()', userId);
    return { op: 'set', userId };
  }

  #remember(snapshot: Snapshot): void {
    this.#snapshots.add(snapshot);
    const list = this.#bySid.get(snapshot.sid);
    if (list === undefined) this.#bySid.set(snapshot.sid, [snapshot]);
    else list.push(snapshot);
    for (const oldest of this.#snapshots) {
      if (this.#snapshots.size <= MAX_SNAPSHOTS && snapshot.at - oldest.at < MAX_SNAPSHOT_AGE_MS) break;
      this.#forget(oldest);
    }
  }

  #forget(snapshot: Snapshot): void {
    this.#snapshots.delete(snapshot);
    const list = this.#bySid.get(snapshot.sid)?.filter((s) => s !== snapshot);
    if (list === undefined || list.length === 0) this.#bySid.delete(snapshot.sid);
    else this.#bySid.set(snapshot.sid, list);
  }

  /**
   * This request's snapshot: the one linked to its session object (express), else, among the
   * reads of this session still in flight, the one its data differs least from (several requests
   * of one session at once), else the oldest.
   */
  #claim(sid: string, session: object | undefined, fields?: Fields): Snapshot | undefined {
    let snapshot = session === undefined ? undefined : this.#byObject.get(session);
    if (session !== undefined) this.#byObject.delete(session);
    if (snapshot === undefined) {
      const candidates = this.#bySid.get(sid) ?? [];
      const cost = (s: Snapshot) => {
        if (fields === undefined) return 0;
        const change = diff(s.fields, fields);
        return change.set.size + change.del.length;
      };
      for (const candidate of candidates)
        if (snapshot === undefined || cost(candidate) < cost(snapshot)) snapshot = candidate;
    }
    if (snapshot === undefined) return undefined;
    this.#forget(snapshot);
    // Whatever its age: a snapshot proves the session existed, so the save must patch it (and find
    // it gone if it was destroyed meanwhile), never re-create it as a new session.
    return snapshot;
  }
}

/** A framework store method's callback: the error first, then the value. */
export type StoreCallback<T> = (err: unknown, value?: T) => void;

/**
 * Answers a framework store method either way it was called: with a callback, calls it once and
 * returns undefined; without one, returns a promise of the value.
 */
export function answer<T>(
  work: () => Promise<T>,
  callback: StoreCallback<T> | undefined,
): Promise<T> | undefined {
  // A method that throws at once (a closed store) fails the same way as one that fails later.
  const promise = (async () => work())();
  if (callback !== undefined) {
    // The callback runs outside the promise chain: an exception thrown by it must not be taken for a
    // store failure and call it a second time.
    promise.then(
      (value) => process.nextTick(callback, null, value),
      (err: unknown) => process.nextTick(callback, err),
    );
    return undefined;
  }
  // express-session calls destroy(sid, undefined) for a `req.session.destroy()` without a callback
  // and drops what it gets back: a Redis failure there must stay unnoticed, as it always was, not
  // become an unhandled rejection that ends the process. An awaited promise still rejects.
  promise.catch(() => {});
  return promise;
}

function sameUser(user: UserChange, known: string | undefined): boolean {
  if (user.op === 'keep') return true;
  return user.op === 'set' ? user.userId === known : known === undefined;
}
