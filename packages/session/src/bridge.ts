import { InvalidArgumentError } from '@redis-patterns/connection';
import {
  type AdapterOptions,
  COOKIE_CAP_MS,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
} from './adapter-options.js';
import {
  blobOf,
  checkData,
  checkSize,
  checkUserId,
  decodeFields,
  diff,
  encodeData,
  expiryOf,
  fieldsOf,
} from './codec.js';
import type { Lifetime, UserChange } from './commands/index.js';
import { lifetimeKey, lifetimeOf, renewCookie, sameLifetime, storedLifetimeKey } from './cookie.js';
import { FreshIds, handleOf, isFrameworkId } from './ids.js';
import { allSessions, clearPrefix, liveHandles } from './listing.js';
import { outlivesCookie, Snapshots } from './snapshots.js';
import { commandsOf } from './store.js';
import type { SessionData, SessionStore } from './types.js';

export type { AdapterOptions };

const COOKIE = 'cookie';

/**
 * The part of a framework store that both adapters share. Frameworks hand the store the whole
 * session on every save; writing it whole would let a slow request erase what a fast one wrote
 * meanwhile (the classic lost update of session stores), and re-create a session that a logout
 * destroyed meanwhile. Instead each save writes only the properties that changed since that
 * request's read, as one atomic patch that never recreates a session. A change of the cookie alone
 * is written only when it changes the session's lifetime (see cookie.ts), so a request that
 * changes nothing costs one Redis round trip.
 */
export class FrameworkBridge {
  readonly #sessions: SessionStore<object>;
  readonly #options: ResolvedAdapterOptions;
  readonly #snapshots = new Snapshots();
  readonly #fresh = new FreshIds();

  constructor(sessions: SessionStore<object>, given?: AdapterOptions) {
    this.#options = resolveAdapterOptions(given);
    commandsOf(sessions);
    this.#sessions = sessions;
  }

  get #commands() {
    return commandsOf(this.#sessions);
  }

  /** A new 256-bit session id for the framework's id generator option. */
  generateId(): string {
    return this.#fresh.generate();
  }

  async load(sid: string): Promise<SessionData | null> {
    if (!isFrameworkId(sid)) return null;
    this.#fresh.take(sid);
    const found = await this.#read(sid);
    return found !== null || this.#options.legacy === undefined ? found : this.#migrate(sid);
  }

  /** The session, remembered for this request's save. */
  async #read(sid: string): Promise<SessionData | null> {
    const commands = this.#commands;
    const loaded = await commands.read(handleOf(sid));
    if (loaded === null) return null;
    const fields = fieldsOf(loaded.blob);
    const data = decodeFields(commands.opts.serializer, fields);
    const lifetime = storedLifetimeKey(data, loaded.meta);
    const { idleTtlMs, touchAfterMs } = commands.opts;
    renewCookie(data, expiryOf(loaded.meta, idleTtlMs, touchAfterMs));
    const { userId, version, refreshedAt, ownIdleMs } = loaded.meta;
    this.#snapshots.remember(
      { sid, at: Date.now(), fields, userId, lifetime, version, refreshedAt, ownIdleMs },
      data,
    );
    return data;
  }

  /** Ties the session object a framework built from `data` to the read that returned `data`. */
  link(data: object, session: object): void {
    this.#snapshots.link(data, session);
  }

  async save(sid: string, session: unknown): Promise<void> {
    const commands = this.#commands;
    checkSid(sid);
    checkData('session', session);
    this.#fresh.take(sid);
    const lifetime = this.#lifetimeOf(session);
    const handle = handleOf(sid);
    if (lifetime === 'ended') {
      this.#snapshots.claim(sid, session);
      await commands.destroy(handle);
      return;
    }
    const { serializer, maxSizeBytes } = commands.opts;
    const fields = encodeData(serializer, session);
    const blob = blobOf(fields);
    checkSize(Buffer.byteLength(blob), maxSizeBytes);
    const user = this.#userChange(session);
    const snapshot = this.#snapshots.claim(sid, session, fields);
    const key = lifetimeKey(lifetime);
    if (snapshot !== undefined) {
      const change = diff(snapshot.fields, fields);
      const userOp = sameUser(user, snapshot.userId) ? ({ op: 'keep' } as const) : user;
      const relife = lifetime !== undefined && !sameLifetime(key, snapshot.lifetime) ? lifetime : undefined;
      const cookieOnly = change.del.length === 0 && [...change.set.keys()].every((name) => name === COOKIE);
      // Only the cookie's expiry moved: a touch at most (see outlivesCookie), and a second save in
      // this request still diffs against that read.
      if (userOp.op === 'keep' && cookieOnly && relife === undefined) {
        if (!outlivesCookie(snapshot, commands.opts.touchAfterMs)) await commands.touch(handle);
        return this.#snapshots.saved(session, snapshot);
      }
      const options = {
        user: userOp,
        knownUserId: snapshot.userId,
        lifetime: relife,
        // A binding scores the user's index entry past the session's end, also when its lifetime
        // did not change: a cookie-driven session may outlive the store's absoluteTtlMs.
        capMs: lifetime?.capMs,
      };
      // Unchanged since this request's read: the whole data, no JSON work in Redis; else the patch.
      const expectVersion = snapshot.version;
      let result = expectVersion
        ? await commands.write(handle, blob, { ...options, mode: 'replace', expectVersion })
        : undefined;
      const whole = result?.status === 'ok';
      if (result === undefined || result.status === 'conflict')
        result = await commands.write(handle, change, { ...options, mode: 'patch' });
      if (result.status === 'too-large') checkSize(result.size, maxSizeBytes);
      // A second save of the same object in this request diffs against what this one stored. After
      // a merge Redis holds more than these fields, so their version is not known: that save merges.
      if (result.status === 'ok') {
        const { userId, version } = result.meta;
        const lifetimeNow = relife === undefined ? snapshot.lifetime : key;
        const saved = {
          ...snapshot,
          fields,
          userId,
          lifetime: lifetimeNow,
          version: whole ? version : '',
          // The write slid the TTL only outside the refresh window, or for the new lifetime.
          refreshedAt: result.meta.refreshedAt,
          ownIdleMs: relife === undefined ? snapshot.ownIdleMs : relife.idleMs,
        };
        this.#snapshots.saved(session, saved);
      }
      // 'gone': destroyed or expired during the request; it stays gone.
      return;
    }
    const userId = user.op === 'set' ? user.userId : undefined;
    const created = await commands.create(handle, blob, { userId, lifetime });
    if (created.status === 'created') {
      this.#snapshots.saved(session, {
        sid,
        at: Date.now(),
        fields,
        userId,
        lifetime: key,
        version: '1',
        refreshedAt: created.now,
        ownIdleMs: lifetime?.idleMs,
      });
      return;
    }
    // `exists` for an id never read in this request: saved by code that never read it, or a new id
    // that a destroyAllForUser reached first (then the key is a tombstone and this finds it gone).
    if (created.status !== 'exists') return;
    const result = await commands.write(
      handle,
      { set: fields, del: [] },
      { mode: 'replace', user, lifetime },
    );
    if (result.status === 'too-large') checkSize(result.size, maxSizeBytes);
  }

  async touch(sid: string, session?: object): Promise<void> {
    const lifetime = session === undefined ? undefined : this.#lifetimeOf(session);
    const snapshot = this.#snapshots.claim(sid, session);
    if (!isFrameworkId(sid)) return;
    const commands = this.#commands;
    if (lifetime === 'ended') {
      await commands.destroy(handleOf(sid));
      return;
    }
    const same = lifetime === undefined || sameLifetime(lifetimeKey(lifetime), snapshot?.lifetime);
    const relife = same ? undefined : lifetime;
    if (
      relife === undefined &&
      snapshot !== undefined &&
      outlivesCookie(snapshot, commands.opts.touchAfterMs)
    )
      return;
    await commands.touch(handleOf(sid), relife);
  }

  /**
   * Other requests' snapshots of this session stay: their saves must find it gone, not re-create it.
   * With `migrateFrom`, a session not moved yet is deleted where connect-redis wrote it too.
   */
  async destroy(sid: string): Promise<void> {
    // A regenerate of a session this process generated and never saved (a new visitor logging in).
    if (!isFrameworkId(sid) || this.#fresh.take(sid)) return;
    const commands = this.#commands;
    const { legacy } = this.#options;
    await Promise.all([
      commands.destroy(handleOf(sid)),
      legacy === undefined ? undefined : commands.deleteKey(legacy.prefix + sid),
    ]);
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

  /** With lifetime 'cookie', what the session's cookie asks for; undefined with lifetime 'store'. */
  #lifetimeOf(session: object): Lifetime | 'ended' | undefined {
    const cap = this.#options.cookieCapMs;
    return cap === undefined ? undefined : lifetimeOf(session, cap);
  }

  /**
   * A session connect-redis wrote: read once, written here (bound to its user, with its cookie's
   * lifetime), then deleted there; a concurrent request of the same id finds it here instead. A
   * miss there costs one more read here while the option is on.
   */
  async #migrate(sid: string): Promise<SessionData | null> {
    const legacy = this.#options.legacy;
    if (legacy === undefined) return null;
    const commands = this.#commands;
    const key = legacy.prefix + sid;
    const text = await commands.legacyGet(key);
    // Gone there: another request of this id may have just moved it here (its write came first).
    if (text === null) return this.#read(sid);
    let data: unknown;
    try {
      data = legacy.parse(text);
    } catch {
      data = undefined;
    }
    // Whatever the adapter's lifetime option, a session whose cookie has expired is not moved.
    const expired = data === null || typeof data !== 'object' || lifetimeOf(data, COOKIE_CAP_MS) === 'ended';
    const lifetime = expired ? 'ended' : this.#lifetimeOf(data as object);
    if (lifetime !== 'ended') {
      const session = data as SessionData;
      const blob = blobOf(encodeData(commands.opts.serializer, session));
      checkSize(Buffer.byteLength(blob), commands.opts.maxSizeBytes);
      const user = this.#userChange(session);
      const userId = user.op === 'set' ? user.userId : undefined;
      await commands.create(handleOf(sid), blob, { userId, lifetime });
    }
    await commands.deleteKey(key);
    return lifetime === 'ended' ? null : this.#read(sid);
  }

  #userChange(session: SessionData): UserChange {
    const { userIdOf } = this.#options;
    if (userIdOf === undefined) return { op: 'keep' };
    const userId = userIdOf(session);
    if (userId === undefined) return { op: 'unset' };
    checkUserId('userIdOf()', userId);
    return { op: 'set', userId };
  }
}

function checkSid(sid: unknown): asserts sid is string {
  if (isFrameworkId(sid)) return;
  throw new InvalidArgumentError(
    'sid',
    "expected at most 256 printable ASCII characters holding a run of 32 or more URL-safe ones (its random part); pass the store's generator to the framework (express-session: genid: store.genid, @fastify/session: idGenerator: store.idGenerator), or see the README for custom ids.",
  );
}

function sameUser(user: UserChange, known: string | undefined): boolean {
  if (user.op === 'keep') return true;
  return user.op === 'set' ? user.userId === known : known === undefined;
}
