import { escapeGlob, type RedisConnection } from '@redis-patterns/connection';
import { type FieldChange, type Fields, flattenHash, type Loaded, type Meta, splitHash } from '../codec.js';
import { scripts } from '../lua.generated.js';
import type { ResolvedOptions } from '../options.js';
import { OneServer, withIndexEntry } from './one-server.js';
import { SessionReads } from './reads.js';
import {
  type CreateResult,
  createResult,
  type Lifetime,
  lifetimeArgs,
  type UserChange,
  type WriteResult,
} from './types.js';
import { UserIndex } from './user-index.js';

export type { CreateResult, Lifetime, UserChange, WriteResult };

/*
 * Every Redis command of the session store is sent from this folder; `scripts.<name>` is
 * src/lua/<name>.lua, and codec.ts describes the keys. This file sends a session's own
 * commands, user-index.ts those of the per-user indexes.
 *
 * A session key and its user's index live in different Cluster slots, so writes touching both are ordered
 * to keep one invariant: every live session bound to a user is in that user's index, once the write
 * that bound it has answered. A handle's index entry is sent with the write that binds it (ahead of it
 * on one connection; on Cluster, to another node at the same time; on one server, by the same script:
 * create-indexed.lua, update-indexed.lua, see one-server.ts), and a concurrent destroyAllForUser
 * that takes the entry first still ends the session: a new one finds the tombstone that destroy left
 * for its id, an existing one checks its entry again after a two-command write and deletes itself. A write whose
 * index entry failed deletes what it wrote. An entry is removed only after its session is gone. Stale
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

/** The Redis side of one store, shared by the store and the framework adapters. */
export class SessionCommands {
  readonly opts: ResolvedOptions;
  readonly #conn: RedisConnection;
  readonly #idle: string;
  readonly #absoluteTtl: string;
  readonly #touchAfter: string;
  readonly #reads: SessionReads;
  /** Whether a session and its index entry can be written by one script. */
  readonly #oneServer: OneServer;
  /** The per-user indexes. */
  readonly index: UserIndex;

  constructor(opts: ResolvedOptions) {
    this.opts = opts;
    this.#conn = opts.conn;
    this.#idle = String(opts.idleTtlMs);
    this.#absoluteTtl = String(opts.absoluteTtlMs);
    this.#touchAfter = String(opts.touchAfterMs);
    this.index = new UserIndex(opts);
    this.#reads = new SessionReads(opts);
    this.#oneServer = new OneServer(opts.conn);
  }

  readonly sessionKey = (handle: string): string => this.opts.keys.key(handle);

  /** get: the session, with its idle TTL slid when due (see reads.ts). */
  read(handle: string): Promise<Loaded | null> {
    return this.#reads.read(this.sessionKey(handle));
  }

  /** Raw HGETALL, no refresh: for listing and for function updates. */
  async peek(handle: string): Promise<{ meta: Meta; fields: Fields } | null> {
    const key = this.sessionKey(handle);
    const reply = await this.#conn.send<unknown>(['HGETALL', key], { key, readonly: true });
    return splitHash(flattenHash(reply)) ?? null;
  }

  /** Slides the TTL (or skips it within the window); with a lifetime, sets that first. False if gone. */
  async touch(handle: string, lifetime?: Lifetime): Promise<boolean> {
    const args = [this.#idle, this.#touchAfter, ...lifetimeArgs(lifetime)];
    return (await this.#conn.runScript<number>(scripts.touch, [this.sessionKey(handle)], args)) >= 0;
  }

  /**
   * Writes a new session hash, in one round trip: with a user, its index entry is written with it
   * (on one server, by the same script; on Cluster, sent to the other node at the same time). A
   * destroyAllForUser that takes the entry before the session lands leaves a tombstone that the
   * session's write then finds (`exists`), so it never outlives a "log out everywhere" unindexed.
   * `blob` is the data as blobOf encodes it: the caller has encoded it once for its size check.
   */
  async create(
    handle: string,
    blob: string,
    options: {
      userId?: string | undefined;
      createdAt?: number;
      absoluteAt?: number | undefined;
      lifetime?: Lifetime | undefined;
    } = {},
  ): Promise<CreateResult> {
    const { userId, createdAt, lifetime } = options;
    const absoluteAt = options.absoluteAt ?? lifetime?.fixedEnd;
    const cap = lifetime === undefined ? this.#absoluteTtl : String(lifetime.capMs);
    const key = this.sessionKey(handle);
    const args = [
      this.#idle,
      cap,
      absoluteAt === undefined ? '' : String(absoluteAt),
      createdAt === undefined ? '' : String(createdAt),
      userId ?? '',
      blob,
      this.#touchAfter,
      lifetime?.idleMs === undefined ? '' : String(lifetime.idleMs),
    ];
    if (userId !== undefined && this.#oneServer.holdsBoth) {
      // One server holds both keys: the session and its index entry in one atomic script.
      const fixedEnd = options.absoluteAt === undefined ? '' : String(options.absoluteAt);
      const keys = [key, this.index.key(userId)];
      const reply = await this.#oneServer.run(() =>
        this.#conn.runScript<number[]>(scripts.createIndexed, keys, [...args, handle, fixedEnd]),
      );
      if (reply !== undefined) return createResult(reply);
    }
    const indexed =
      userId === undefined ? undefined : this.index.add(userId, handle, options.absoluteAt, cap);
    const written = this.#conn.runScript<number[]>(scripts.create, [key], args);
    const reply = await withIndexEntry(indexed, written, () => this.destroy(handle));
    if (reply[0] === -1 && userId !== undefined) this.index.forget(userId, handle);
    return createResult(reply);
  }

  /**
   * Patches or replaces the data of an existing session (never recreates it), moving its index entry.
   * A string `change` is the whole data as blobOf encodes it, replacing it with no JSON work in
   * Redis: with the version it was read at as `expectVersion`, that is the patch merged by the app.
   */
  async write(
    handle: string,
    change: FieldChange | string,
    options: {
      mode: 'patch' | 'replace';
      user: UserChange;
      knownUserId?: string | undefined;
      expectVersion?: string;
      lifetime?: Lifetime | undefined;
      /** The session's lifetime cap (ms) when it follows a cookie, for its index entry's score. */
      capMs?: number | undefined;
    },
  ): Promise<WriteResult> {
    const { user, lifetime } = options;
    const capMs = options.capMs ?? lifetime?.capMs;
    const cap = capMs === undefined ? undefined : String(capMs);
    const binding = user.op === 'set' && user.userId !== options.knownUserId ? user.userId : undefined;
    const key = this.sessionKey(handle);
    const args = [
      this.#idle,
      String(this.opts.maxSizeBytes),
      options.expectVersion ?? '',
      typeof change === 'string' ? 'blob' : options.mode,
      user.op,
      user.op === 'set' ? user.userId : '',
      this.#touchAfter,
      ...lifetimeArgs(lifetime),
      ...(typeof change === 'string'
        ? ['0', change]
        : [String(change.set.size), ...[...change.set].flat(), ...change.del]),
    ];
    // One server holds both keys: any user it is given and that user's index entry in one atomic
    // script, with no check after it. Otherwise the entry of a new binding goes out with the write
    // (see create), and is checked again after it.
    const setUser = user.op === 'set' ? user.userId : undefined;
    const atomic =
      setUser !== undefined && this.#oneServer.holdsBoth
        ? await this.#oneServer.run(() =>
            this.#conn.runScript<Array<number | string>>(
              scripts.updateIndexed,
              [key, this.index.key(setUser)],
              [...args, handle, cap ?? this.#absoluteTtl],
            ),
          )
        : undefined;
    const together = atomic !== undefined;
    const reply =
      atomic ??
      (await withIndexEntry(
        binding === undefined ? undefined : this.index.add(binding, handle, undefined, cap),
        this.#conn.runScript<Array<number | string>>(scripts.update, [key], args),
        () => this.destroy(handle),
      ));
    const status = reply[0];
    if (status !== 1) {
      // Only a session that is gone certainly has no use for the entry; otherwise a stale entry is harmless.
      if (binding !== undefined && !together && status === 0) this.index.forget(binding, handle);
      if (status === -1) return { status: 'conflict' };
      if (status === -2) return { status: 'too-large', size: Number(reply[1]) };
      return { status: 'gone' };
    }
    const previousUserId = reply[2] === '' ? undefined : String(reply[2]);
    let checkIndex = together ? undefined : binding;
    if (!together && user.op === 'set' && binding === undefined && previousUserId !== user.userId) {
      // The caller's idea of the owner was stale: index late, then check like any binding.
      checkIndex = user.userId;
      await this.index.add(user.userId, handle, undefined, cap).catch(async (err: unknown) => {
        // Bound to a user but missing from the user's index: the session must not stay.
        await this.destroy(handle);
        throw err;
      });
    }
    if (checkIndex !== undefined && !(await this.index.has(checkIndex, handle))) {
      await this.destroy(handle);
      return { status: 'gone' };
    }
    const userId = user.op === 'set' ? user.userId : user.op === 'unset' ? undefined : previousUserId;
    if (previousUserId !== undefined && previousUserId !== userId) this.index.forget(previousUserId, handle);
    const now = Number(reply[1]);
    const meta = {
      createdAt: Number(reply[4]),
      absoluteExpiresAt: Number(reply[5]),
      // The write slid the idle TTL only outside the refresh window (or for a new lifetime).
      refreshedAt: Number(reply[6]),
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
      [this.#idle, follow ? '1' : '0', ownedBy ?? '', String(TOMBSTONE_TTL_MS)],
    );
    // After the DEL: removing the index entry first could hide a still-live session from destroyAllForUser.
    if (userId !== '') this.index.forget(userId, handle);
    if (follow && movedTo !== '' && depth < MAX_FORWARDS)
      return this.destroy(movedTo, true, ownedBy, depth + 1);
    return { existed: deleted === 1 };
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

  /** Deletes one key: a session's, or a legacy copy connect-redis wrote (`migrateFrom`). */
  async deleteKey(key: string): Promise<void> {
    await this.#conn.send(['DEL', key], { key });
  }

  /** A session connect-redis wrote (`migrateFrom`): its serialized text, or null. */
  legacyGet(key: string): Promise<string | null> {
    return this.#conn.send<string | null>(['GET', key], { key, readonly: true });
  }
}
