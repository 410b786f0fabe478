import { ClosedError, InvalidArgumentError, TimeoutError } from '@redis-patterns/connection';
import { checkBoolean, checkOptions } from '@redis-patterns/connection/internal';
import {
  blobOf,
  checkData,
  checkSize,
  checkUserId,
  decodeBlob,
  decodeFields,
  encodeData,
  encodePatch,
  expiryOf,
  type Meta,
  sizeOf,
} from './codec.js';
import { SessionCommands } from './commands/index.js';
import { generateId, handleOf, isWellFormedId } from './ids.js';
import { resolveOptions, type SessionStoreOptions } from './options.js';
import { instrumentStore } from './otel.js';
import { destroyUserSessions } from './revocation.js';
import type { Session, SessionData, SessionStore, SessionSummary } from './types.js';

const commandsByStore = new WeakMap<object, SessionCommands>();
const closedStores = new WeakSet<object>();

/**
 * The Redis commands behind a store, for the store itself and the framework adapters of this
 * package; throws `ClosedError` once the store was closed.
 */
export function commandsOf(store: SessionStore<object>): SessionCommands {
  const commands = commandsByStore.get(store);
  if (commands === undefined) {
    throw new InvalidArgumentError('sessions', 'expected a store from createSessionStore().');
  }
  if (closedStores.has(store)) throw new ClosedError('This session store was closed; create a new one.');
  return commands;
}

/** Function updates give up after this many conflicting attempts (each lost to another writer). */
const MAX_UPDATE_ATTEMPTS = 100;

/**
 * Creates a session store on Redis: ids of 256 random bits kept only as SHA-256 at rest, reads that
 * slide the idle TTL in the same round trip (and skip the write within `touchAfterMs`), an absolute
 * lifetime no read can extend, atomic patches, rotation on login, and per-user listing and
 * revocation. Nothing connects here.
 *
 * @example
 * ```ts
 * import { connect, createSessionStore } from '@redis-patterns/session';
 *
 * const sessions = createSessionStore<{ cart: string[]; role?: string }>({
 *   redis: await connect({ url: process.env.REDIS_URL }),
 *   idleTtlMs: 30 * 60_000,
 *   absoluteTtlMs: 8 * 3_600_000,
 * });
 * const anonymous = await sessions.create({ cart: [] });
 * await sessions.update(anonymous.id, { cart: ['book'] });
 * const signedIn = await sessions.regenerate(anonymous.id, { userId: 'u42' }); // new id on login
 * await sessions.destroyAllForUser('u42', { except: signedIn?.id });           // log out elsewhere
 * ```
 */
export function createSessionStore<Data extends object = SessionData>(
  options: SessionStoreOptions,
): SessionStore<Data> {
  const opts = resolveOptions(options);
  const commands = new SessionCommands(opts);
  const { serializer, idleTtlMs, maxSizeBytes } = opts;

  const toSession = (id: string, meta: Meta, data: Record<string, unknown>): Session<Data> => ({
    id,
    data: data as Data,
    userId: meta.userId,
    createdAt: meta.createdAt,
    expiresAt: expiryOf(meta, idleTtlMs, opts.touchAfterMs),
    absoluteExpiresAt: meta.absoluteExpiresAt,
  });

  const checkId = (argument: string, id: unknown): string => {
    if (!isWellFormedId(id)) {
      throw new InvalidArgumentError(
        argument,
        typeof id === 'string'
          ? `is not a session id (43 base64url characters from create() or regenerate()), got ${id.length} characters.`
          : `expected a session id string, got ${id === null ? 'null' : typeof id}.`,
      );
    }
    return handleOf(id);
  };
  // Ids reach get/touch straight from cookies: a malformed one is just "no session", but a
  // non-string is a bug in the caller.
  const handleOrNull = (id: unknown): string | null => {
    if (typeof id !== 'string') checkId('id', id);
    return isWellFormedId(id) ? handleOf(id) : null;
  };

  // Every method checks the store is open before its arguments (as the adapters do, through commandsOf).
  const open = () => commandsOf(store);
  const store: SessionStore<Data> = instrumentStore({
    idleTtlMs,
    absoluteTtlMs: opts.absoluteTtlMs,
    touchAfterMs: opts.touchAfterMs,

    async create(data, given) {
      open();
      const createOptions = checkOptions('options', given, '{ userId? }');
      checkData('data', data);
      const { userId } = createOptions;
      if (userId !== undefined) checkUserId('userId', userId);
      const fields = encodeData(serializer, data);
      const blob = blobOf(fields);
      checkSize(Buffer.byteLength(blob), maxSizeBytes);
      const id = generateId();
      const created = await commands.create(handleOf(id), blob, { userId });
      if (created.status === 'expired') throw new Error('unreachable: a new session began expired.');
      // `exists`: a destroyAllForUser of this user ended it as it was written; it is gone.
      const now = Date.now();
      const times =
        created.status === 'created'
          ? created
          : { now, createdAt: now, absoluteExpiresAt: now + opts.absoluteTtlMs };
      const meta = { ...times, refreshedAt: times.now, version: '1', userId };
      return toSession(id, meta, decodeFields(serializer, fields));
    },

    async get(id) {
      open();
      const handle = handleOrNull(id);
      if (handle === null) return null;
      const loaded = await commands.read(handle);
      return loaded === null ? null : toSession(id, loaded.meta, decodeBlob(serializer, loaded.blob));
    },

    async touch(id) {
      open();
      const handle = handleOrNull(id);
      return handle === null ? false : commands.touch(handle);
    },

    async update(id, change) {
      open();
      const handle = checkId('id', id);
      if (typeof change !== 'function') {
        checkData('change', change);
        const patch = encodePatch(serializer, change);
        checkSize(sizeOf(patch.set), maxSizeBytes);
        const result = await commands.write(handle, patch, { mode: 'patch', user: { op: 'keep' } });
        if (result.status === 'too-large') checkSize(result.size, maxSizeBytes);
        return result.status === 'ok';
      }
      const started = performance.now();
      for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
        const current = await commands.peek(handle);
        if (current === null) return false;
        const next = await change(decodeFields(serializer, current.fields) as Data);
        checkData('change() result', next);
        const blob = blobOf(encodeData(serializer, next));
        checkSize(Buffer.byteLength(blob), maxSizeBytes);
        // Compare-and-set on the version read: the whole new data, encoded here.
        const result = await commands.write(handle, blob, {
          mode: 'replace',
          user: { op: 'keep' },
          expectVersion: current.meta.version,
        });
        if (result.status !== 'conflict') {
          if (result.status === 'too-large') checkSize(result.size, maxSizeBytes);
          return result.status === 'ok';
        }
        // Lost to a concurrent writer: back off a little (jittered) so 50 writers do not spin in lockstep.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, attempt)));
      }
      const elapsed = Math.round(performance.now() - started);
      throw new TimeoutError(
        `update(): gave up after ${MAX_UPDATE_ATTEMPTS} attempts lost to concurrent writers of the same session; use a patch object for independent properties.`,
        elapsed,
      );
    },

    async destroy(id) {
      open();
      return (await commands.destroy(checkId('id', id))).existed;
    },

    async regenerate(id, given) {
      open();
      const regenerateOptions = checkOptions('options', given, '{ userId?, restartLifetime? }');
      checkBoolean('restartLifetime', regenerateOptions.restartLifetime);
      const oldHandle = checkId('id', id);
      const { userId: newUserId, restartLifetime = false } = regenerateOptions;
      if (newUserId !== undefined) checkUserId('userId', newUserId);
      const newId = generateId();
      const newHandle = handleOf(newId);
      // Old and new keys are in different Cluster slots, so this is a move in steps: (1) the old
      // session becomes a tombstone pointing to the new handle, atomically with reading it: from
      // here the old id finds nothing; (2) the copy is written (indexed first, like any create);
      // (3) if a destroy followed the tombstone meanwhile (logout, destroyAllForUser), the copy is
      // ended too. A crash between steps loses the session; two live copies never exist.
      const taken = await commands.take(oldHandle, newHandle);
      if (taken === null) return null;
      const { fields, meta: old } = taken;
      const userId = newUserId ?? old.userId;
      const created = await commands.create(newHandle, blobOf(fields), {
        userId,
        ...(restartLifetime ? {} : { absoluteAt: old.absoluteExpiresAt, createdAt: old.createdAt }),
      });
      if (old.userId !== undefined) await commands.index.remove(old.userId, oldHandle);
      if (created.status !== 'created') return null;
      if (!(await commands.tombstoneStands(oldHandle))) {
        await commands.destroy(newHandle);
        return null;
      }
      const meta = { ...created, refreshedAt: created.now, version: '1', userId };
      return toSession(newId, meta, decodeFields(serializer, fields));
    },

    async listForUser(userId) {
      open();
      checkUserId('userId', userId);
      const handles = await commands.index.list(userId);
      const sessions = await Promise.all(handles.map((handle) => commands.peek(handle)));
      const summaries: SessionSummary<Data>[] = [];
      sessions.forEach((session, i) => {
        // An index entry outlives an idle-expired session until its absolute expiry: skip those.
        if (session === null || session.meta.userId !== userId) return;
        const { id: _, ...rest } = toSession('', session.meta, decodeFields(serializer, session.fields));
        summaries.push({ handle: handles[i] as string, ...rest });
      });
      return summaries.sort((a, b) => a.createdAt - b.createdAt);
    },

    async destroyAllForUser(userId, given) {
      open();
      const destroyOptions = checkOptions('options', given, '{ except? }');
      checkUserId('userId', userId);
      const { except } = destroyOptions;
      const exceptHandle = except === undefined ? undefined : checkId('except', except);
      return (await destroyUserSessions(commands, userId, exceptHandle)).length;
    },

    async revoke(handle) {
      open();
      if (!isWellFormedId(handle)) {
        throw new InvalidArgumentError(
          'handle',
          'expected a handle from listForUser() (43 base64url characters).',
        );
      }
      return (await commands.destroy(handle, true)).existed;
    },

    async close() {
      closedStores.add(store);
    },

    [Symbol.asyncDispose]() {
      return store.close();
    },
  });
  commandsByStore.set(store, commands);
  return store;
}
