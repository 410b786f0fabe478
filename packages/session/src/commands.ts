import { escapeGlob, type RedisConnection } from '@redis-patterns/connection';
import { ScriptBatcher } from '@redis-patterns/connection/internal';
import {
  blobOf,
  type FieldChange,
  type Fields,
  flattenHash,
  type Loaded,
  loadedAt,
  type Meta,
  READ_SLOTS,
  type ReadReply,
  splitHash,
  USER_INDEX_PREFIX,
} from './codec.js';
import { scripts } from './lua.generated.js';
import type { ResolvedOptions } from './options.js';

/*
 * Every Redis command of the session store is sent from this module; `scripts.<name>` is
 * src/lua/<name>.lua, and codec.ts describes the keys.
 *
 * A session key and its user's index live in different Cluster slots, so writes touching both are ordered
 * to keep one invariant: every live session bound to a user is in that user's index. A handle is added to
 * the index before its session is written and checked again after (a concurrent destroyAllForUser may have
 * taken it: the new session then deletes itself); it is removed only after the session is gone. Stale
 * index entries (idle-expired sessions, a crash between steps, a write refused after its user was indexed)
 * are harmless: reads filter them, destroyAllForUser ends only sessions still bound to that user, and
 * pruning by score drops them at their absolute expiry. Regenerate moves a session across slots: the old
 * key becomes a tombstone pointing to the new handle, so a destroyAllForUser that read the index before
 * the move still ends the moved session, and the mover ends its copy if a destroy followed the tombstone
 * meanwhile (a plain destroy of the old id does not follow it, and leaves it).
 */

/**
 * How long a regenerated session's old key keeps pointing to the new one (capped by the session's
 * absolute expiry): a destroyAllForUser that read the user's index before the move and reaches the
 * old handle within this window still ends the moved session.
 */
export const TOMBSTONE_TTL_MS = 60_000;

/** Tombstones followed by one destroy (a session regenerated several times within the window). */
const MAX_FORWARDS = 16;

/** Most reads in one script call (one call holds Redis for all of them). */
const MAX_READ_BATCH = 25;

/** Who a write binds the session to. */
export type UserChange = { op: 'keep' } | { op: 'set'; userId: string } | { op: 'unset' };

/** Outcome of a write. `gone`: the session no longer exists (nothing was written). */
export type WriteResult =
  | { status: 'ok'; now: number; meta: Meta }
  | { status: 'gone' }
  | { status: 'conflict' }
  | { status: 'too-large'; size: number };

/** Outcome of a create: `revoked` when a concurrent destroyAllForUser took its index entry (it is deleted). */
export type CreateResult =
  | { status: 'created' | 'revoked'; now: number; createdAt: number; absoluteExpiresAt: number }
  | { status: 'exists' | 'expired' };

/** The Redis side of one store, shared by the store and the framework adapters. */
export class SessionCommands {
  readonly opts: ResolvedOptions;
  readonly #conn: RedisConnection;
  readonly #idle: string;
  readonly #absoluteTtl: string;
  readonly #reads: ScriptBatcher<string, Loaded | null>;

  constructor(opts: ResolvedOptions) {
    this.opts = opts;
    this.#conn = opts.conn;
    this.#idle = String(opts.idleTtlMs);
    this.#absoluteTtl = String(opts.absoluteTtlMs);
    const readArgs = [this.#idle, String(opts.touchAfterMs)];
    // Reads asked for in the same tick share script calls (per hash slot, so on Cluster only keys of
    // one slot do): at 50 requests in flight Redis runs two calls instead of 50. With none in flight
    // a read goes out at once, so a lone request waits for nothing.
    this.#reads = new ScriptBatcher<string, Loaded | null>(opts.conn, {
      single: scripts.read,
      batch: scripts.readBatch,
      max: MAX_READ_BATCH,
      keyOf: (key) => key,
      argsOf: (keys) => ({ keys: [...keys], args: readArgs }),
      layout: { first: 1, slots: READ_SLOTS },
      // A single read replies nil for a session that is gone; a batch, nulls in its slots.
      decode: (reply, at) => (reply === null ? null : loadedAt(reply as ReadReply, at)),
    });
  }

  readonly sessionKey = (handle: string): string => this.opts.keys.key(handle);
  readonly indexKey = (userId: string): string => this.opts.keys.key(`${USER_INDEX_PREFIX}${userId}`);

  /** get: the session, with its idle TTL slid in the same script call. */
  read(handle: string): Promise<Loaded | null> {
    return this.#reads.call(this.sessionKey(handle));
  }

  /** Raw HGETALL, no refresh: for listing and for function updates. */
  async peek(handle: string): Promise<{ meta: Meta; fields: Fields } | null> {
    const key = this.sessionKey(handle);
    const reply = await this.#conn.send<unknown>(['HGETALL', key], { key, readonly: true });
    return splitHash(flattenHash(reply)) ?? null;
  }

  async touch(handle: string): Promise<boolean> {
    const args = [this.#idle, String(this.opts.touchAfterMs)];
    return (await this.#conn.runScript<number>(scripts.touch, [this.sessionKey(handle)], args)) >= 0;
  }

  /** Writes a new session hash, indexed first when it has a user (see the invariant above). */
  async create(
    handle: string,
    fields: Fields,
    options: { userId?: string | undefined; createdAt?: number; absoluteAt?: number } = {},
  ): Promise<CreateResult> {
    const { userId, createdAt } = options;
    let absoluteAt = options.absoluteAt;
    if (userId !== undefined) absoluteAt = await this.indexAdd(userId, handle, absoluteAt);
    const reply = await this.#conn.runScript<number[]>(
      scripts.create,
      [this.sessionKey(handle)],
      [
        this.#idle,
        this.#absoluteTtl,
        absoluteAt === undefined ? '' : String(absoluteAt),
        createdAt === undefined ? '' : String(createdAt),
        userId ?? '',
        blobOf(fields),
      ],
    );
    if (reply[0] === 0) return { status: 'exists' };
    if (reply[0] === -1) {
      if (userId !== undefined) await this.indexRemove(userId, handle);
      return { status: 'expired' };
    }
    const result = {
      now: reply[1] as number,
      createdAt: reply[2] as number,
      absoluteExpiresAt: reply[3] as number,
    };
    if (userId !== undefined && !(await this.stillIndexed(userId, handle))) {
      await this.#conn.runScript(scripts.destroy, [this.sessionKey(handle)], [this.#idle, '0', '']);
      return { status: 'revoked', ...result };
    }
    return { status: 'created', ...result };
  }

  /** Patches or replaces the data of an existing session (never recreates it), moving its index entry. */
  async write(
    handle: string,
    change: FieldChange,
    options: {
      mode: 'patch' | 'replace';
      user: UserChange;
      knownUserId?: string | undefined;
      expectVersion?: string;
    },
  ): Promise<WriteResult> {
    const { user } = options;
    const binding = user.op === 'set' && user.userId !== options.knownUserId ? user.userId : undefined;
    if (binding !== undefined) await this.indexAdd(binding, handle);
    const reply = await this.#conn.runScript<Array<number | string>>(
      scripts.update,
      [this.sessionKey(handle)],
      [
        this.#idle,
        String(this.opts.maxSizeBytes),
        options.expectVersion ?? '',
        options.mode,
        user.op,
        user.op === 'set' ? user.userId : '',
        String(change.set.size),
        ...[...change.set].flat(),
        ...change.del,
      ],
    );
    const status = reply[0];
    if (status !== 1) {
      // Only a session that is gone certainly has no use for the entry; otherwise a stale entry is harmless.
      if (binding !== undefined && status === 0) await this.indexRemove(binding, handle);
      if (status === -1) return { status: 'conflict' };
      if (status === -2) return { status: 'too-large', size: Number(reply[1]) };
      return { status: 'gone' };
    }
    const previousUserId = reply[2] === '' ? undefined : String(reply[2]);
    let checkIndex = binding;
    if (user.op === 'set' && binding === undefined && previousUserId !== user.userId) {
      // The caller's idea of the owner was stale: index late, then check like any binding.
      checkIndex = user.userId;
      await this.indexAdd(user.userId, handle);
    }
    if (checkIndex !== undefined && !(await this.stillIndexed(checkIndex, handle))) {
      await this.destroy(handle);
      return { status: 'gone' };
    }
    const userId = user.op === 'set' ? user.userId : user.op === 'unset' ? undefined : previousUserId;
    if (previousUserId !== undefined && previousUserId !== userId)
      await this.indexRemove(previousUserId, handle);
    const now = Number(reply[1]);
    const meta = {
      createdAt: Number(reply[4]),
      absoluteExpiresAt: Number(reply[5]),
      refreshedAt: now,
      version: String(reply[3]),
      userId,
    };
    return { status: 'ok', now, meta };
  }

  /** Reads the session and leaves a tombstone pointing to `newHandle`, in one step (regenerate's first half). */
  async take(handle: string, newHandle: string): Promise<{ meta: Meta; fields: Fields } | null> {
    const args = [newHandle, String(TOMBSTONE_TTL_MS)];
    const key = this.sessionKey(handle);
    const reply = await this.#conn.runScript<[number, string[]] | null>(scripts.take, [key], args);
    return reply === null ? null : (splitHash(reply[1]) ?? null);
  }

  /** True while the tombstone a regenerate left is there, i.e. no destroy followed it. */
  async tombstoneStands(handle: string): Promise<boolean> {
    const key = this.sessionKey(handle);
    return (await this.#conn.send<number>(['EXISTS', key], { key, readonly: true })) === 1;
  }

  /**
   * Deletes a session. With `follow`, a tombstone left by regenerate is followed to the moved
   * session: destroyAllForUser and revoke need that (they may hold a handle read before the move);
   * destroy(id) does not, or the holder of a pre-login id could end the session that replaced it.
   * With `ownedBy`, only a session of that user is deleted: an index entry left stale by a write
   * that failed never ends someone else's session.
   */
  async destroy(handle: string, follow = false, ownedBy?: string, depth = 0): Promise<{ existed: boolean }> {
    const [deleted, userId, movedTo] = await this.#conn.runScript<[number, string, string]>(
      scripts.destroy,
      [this.sessionKey(handle)],
      [this.#idle, follow ? '1' : '0', ownedBy ?? ''],
    );
    // After the DEL: removing the index entry first could hide a still-live session from destroyAllForUser.
    if (userId !== '') await this.indexRemove(userId, handle);
    if (follow && movedTo !== '' && depth < MAX_FORWARDS)
      return this.destroy(movedTo, true, ownedBy, depth + 1);
    return { existed: deleted === 1 };
  }

  /** Adds a handle to its user's index; returns the absolute expiry it was scored with. */
  async indexAdd(userId: string, handle: string, absoluteAt?: number): Promise<number> {
    const args = [handle, absoluteAt === undefined ? '' : String(absoluteAt), this.#absoluteTtl];
    return Number(await this.#conn.runScript(scripts.indexAdd, [this.indexKey(userId)], args));
  }

  async indexRemove(userId: string, handle: string): Promise<void> {
    const key = this.indexKey(userId);
    await this.#conn.send(['ZREM', key, handle], { key });
  }

  async stillIndexed(userId: string, handle: string): Promise<boolean> {
    const key = this.indexKey(userId);
    return (await this.#conn.send(['ZSCORE', key, handle], { key, readonly: true })) !== null;
  }

  /** The handles in the user's index, pruned of those past their absolute expiry. */
  indexList(userId: string): Promise<string[]> {
    return this.#conn.runScript<string[]>(scripts.indexList, [this.indexKey(userId)], []);
  }

  /** Takes every handle but `exceptHandle` out of the user's index (destroyAllForUser's first half). */
  indexTake(userId: string, exceptHandle: string | undefined): Promise<string[]> {
    return this.#conn.runScript<string[]>(scripts.indexTake, [this.indexKey(userId)], [exceptHandle ?? '']);
  }

  /** Every key under the prefix, SCANned on every master; `hash` keeps sessions and tombstones only. */
  keysUnderPrefix(type?: 'hash'): AsyncIterable<string> {
    const pattern = `${escapeGlob(this.opts.keys.prefix)}{*`;
    return this.#conn.scan(pattern, type === undefined ? undefined : { type });
  }

  /** True when the handle's key holds a live session (a tombstone has no absolute expiry field). */
  async isLive(handle: string): Promise<boolean> {
    const key = this.sessionKey(handle);
    return (await this.#conn.send<number>(['HEXISTS', key, 'a'], { key, readonly: true })) === 1;
  }

  async deleteKey(key: string): Promise<void> {
    await this.#conn.send(['DEL', key], { key });
  }
}
