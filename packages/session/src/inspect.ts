import { ClosedError, InvalidArgumentError, type RedisLike } from '@redis-patterns/connection';
import { checkOptions, checkPage } from '@redis-patterns/connection/internal';
import { checkUserId } from './codec.js';
import { SessionCommands } from './commands/index.js';
import { InspectCommands, type StoredMeta } from './commands/inspect.js';
import { isWellFormedId } from './ids.js';
import { resolveOptions } from './options.js';
import { instrumentSessionInspector } from './otel.js';
import { destroyUserSessions } from './revocation.js';

/** Options of {@link createSessionInspector}: only what a CLI knows, a connection and a prefix. */
export interface SessionInspectorOptions {
  /** A connection from `connect()` or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** The prefix the store was created with. @default 'session:' */
  prefix?: string;
}

/** Where a listing starts and how long a page is. */
export interface SessionPageOptions {
  /** The `cursor` of the previous page; leave it out for the first page. */
  cursor?: string;
  /** Most sessions this page looks at (keys scanned, or index entries). @default 100 (at most 1000) */
  count?: number;
}

/** One page of a listing. */
export interface SessionPage<T> {
  /** What this page found; may be shorter than `count` (or empty) while `cursor` is set. */
  items: T[];
  /** Pass it back for the next page; undefined when the listing is complete. */
  cursor: string | undefined;
}

/**
 * A live session as the inspector shows it: metadata only. Redis never holds session ids, so a
 * session is named by its handle, base64url(SHA-256(id)), which cannot be used as the id.
 */
export interface InspectedSession {
  /** The session's handle: pass it to `get` or `revoke`. */
  handle: string;
  /** The user the session is bound to (its `u` field), if any. */
  userId: string | undefined;
  /**
   * Whether the user's index lists it (undefined when it has no user). False for a session bound to
   * a user but missing from the index (written before the index existed, or by a write that crashed
   * between its two steps): `listForUser` and `revokeUser` do not see it; `revoke(handle)` ends it.
   */
  indexed: boolean | undefined;
  /** Time left before Redis drops it (idle or absolute end, whichever comes first), in ms. */
  ttlMs: number;
  /** Bytes of its stored data (the serialized properties, as `maxSizeBytes` counts them). */
  dataBytes: number;
  /** When it began (epoch ms, Redis server clock). */
  createdAt: number;
  /** When a read or write last slid its idle TTL (epoch ms, at most once per `touchAfterMs`). */
  refreshedAt: number;
  /** When it ends however busy (epoch ms). */
  absoluteExpiresAt: number;
}

/** A session with its data, as `get` returns it. */
export interface InspectedSessionWithData extends InspectedSession {
  /**
   * Each top-level property as stored: the text the store's serializer wrote (JSON by default).
   * The inspector does not know the app's serializer, so it does not parse them.
   */
  data: Record<string, string>;
}

/** What `revokeUser` ended. */
export interface UserRevocation {
  /** How many live sessions ended. */
  revoked: number;
  /** Their handles. */
  handles: string[];
}

/**
 * Read and repair sessions from outside the app (the `redis-patterns` CLI, a dashboard). Listings
 * never return session data and never refresh a session's TTL; only `get` returns data. Mutating
 * calls use the store's own destroy logic, so the per-user index stays consistent.
 */
export interface SessionInspector extends AsyncDisposable {
  /** Every live session under the prefix, a page at a time (a cluster-wide SCAN, never KEYS). */
  listSessions(options?: SessionPageOptions): Promise<SessionPage<InspectedSession>>;
  /**
   * The user's sessions from the user's index, a page at a time (`cursor` is an offset in the
   * index, so a session revoked between two pages can move one of the next page's sessions onto a
   * page already read: list again for an exact picture). Sessions bound to the user but missing
   * from the index (see
   * {@link InspectedSession.indexed}) are not listed: find them with `listSessions`.
   */
  listForUser(userId: string, options?: SessionPageOptions): Promise<SessionPage<InspectedSession>>;
  /** The session and its data, without refreshing it; null when no live session has this handle. */
  get(handle: string): Promise<InspectedSessionWithData | null>;
  /** Ends the session (following a regenerate's move, like `SessionStore.revoke`); false if it was not live. */
  revoke(handle: string): Promise<boolean>;
  /**
   * Ends every session in the user's index, like `destroyAllForUser`: one call whatever their
   * number (the one inspector call not bounded by a page; a user has few sessions).
   */
  revokeUser(userId: string): Promise<UserRevocation>;
  /** Round-trip time of a PING in ms. */
  ping(): Promise<number>;
  /** Refuses later calls with `ClosedError`; the connection stays open (close it yourself). */
  close(): Promise<void>;
}

/**
 * Tombstones the inspector's revocations leave last until the session's absolute end: the app's
 * idle timeout is unknown here, and a tombstone must outlive any late framework save of the id.
 */
const TOMBSTONE_IDLE_MS = 400 * 24 * 3_600_000;

/**
 * Creates a {@link SessionInspector}. Nothing connects here.
 *
 * @example
 * ```ts
 * import { connect, createSessionInspector } from '@redis-patterns/session';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const inspector = createSessionInspector({ redis, prefix: 'session:' });
 * let cursor: string | undefined;
 * do {
 *   const page = await inspector.listSessions({ cursor, count: 100 });
 *   for (const s of page.items) console.log(s.handle, s.userId, s.ttlMs, s.dataBytes);
 *   cursor = page.cursor;
 * } while (cursor !== undefined);
 * console.log(await inspector.revokeUser('u42')); // { revoked: 0, handles: [] }
 * await redis.close();
 * ```
 */
export function createSessionInspector(options: SessionInspectorOptions): SessionInspector {
  if (options === undefined) throw new InvalidArgumentError('options', 'expected { redis, prefix? }.');
  checkOptions('options', options, '{ redis, prefix? }');
  const opts = resolveOptions({
    redis: options.redis,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    idleTtlMs: TOMBSTONE_IDLE_MS,
  });
  const commands = new SessionCommands(opts);
  const reads = new InspectCommands(opts, commands.index);
  let closed = false;
  const open = () => {
    if (closed) throw new ClosedError('This session inspector was closed; create a new one.');
  };
  const checkHandle = (handle: unknown): string => {
    if (!isWellFormedId(handle)) {
      throw new InvalidArgumentError(
        'handle',
        'expected a session handle from a listing (43 base64url characters).',
      );
    }
    return handle;
  };

  /** Listing entries for handles, in order, skipping those that are not live sessions. */
  const describe = async (handles: string[], expectUser?: string): Promise<InspectedSession[]> => {
    const metas = await Promise.all(handles.map((handle) => reads.meta(handle)));
    const found = await Promise.all(
      metas.map(async (meta, i) => {
        if (meta === undefined || (expectUser !== undefined && meta.userId !== expectUser)) return undefined;
        const handle = handles[i] as string;
        const indexed =
          meta.userId === undefined
            ? undefined
            : expectUser !== undefined || (await reads.indexed(meta.userId, handle));
        return summary(handle, meta, indexed);
      }),
    );
    return found.filter((item) => item !== undefined);
  };

  const inspector: SessionInspector = instrumentSessionInspector({
    async listSessions(given) {
      open();
      const page = checkOptions('options', given, '{ cursor?, count? }');
      const count = checkPage(page);
      const { handles, cursor } = await reads.handles(page.cursor, count);
      return { items: await describe(handles), cursor };
    },

    async listForUser(userId, given) {
      open();
      checkUserId('userId', userId);
      const page = checkOptions('options', given, '{ cursor?, count? }');
      const offset = offsetOf(page.cursor);
      const count = checkPage({ count: page.count });
      const { handles, more } = await reads.userHandles(userId, offset, count);
      return {
        items: await describe(handles, userId),
        cursor: more ? String(offset + count) : undefined,
      };
    },

    async get(handle) {
      open();
      checkHandle(handle);
      const [meta, stored] = await Promise.all([reads.meta(handle), commands.peek(handle)]);
      if (meta === undefined || stored === null) return null;
      const indexed = meta.userId === undefined ? undefined : await reads.indexed(meta.userId, handle);
      return { ...summary(handle, meta, indexed), data: Object.fromEntries(stored.fields) };
    },

    async revoke(handle) {
      open();
      return (await commands.destroy(checkHandle(handle), true)).existed;
    },

    async revokeUser(userId) {
      open();
      checkUserId('userId', userId);
      const handles = await destroyUserSessions(commands, userId, undefined);
      return { revoked: handles.length, handles };
    },

    ping() {
      open();
      return reads.pingMs();
    },

    async close() {
      closed = true;
    },

    [Symbol.asyncDispose]() {
      return inspector.close();
    },
  });
  return inspector;
}

function summary(handle: string, meta: StoredMeta, indexed: boolean | undefined): InspectedSession {
  return {
    handle,
    userId: meta.userId,
    indexed,
    ttlMs: meta.ttlMs,
    dataBytes: meta.dataBytes,
    createdAt: meta.createdAt,
    refreshedAt: meta.refreshedAt,
    absoluteExpiresAt: meta.absoluteExpiresAt,
  };
}

/** A `listForUser` cursor is the offset of the next page in the user's index. */
function offsetOf(cursor: unknown): number {
  if (cursor === undefined) return 0;
  if (typeof cursor !== 'string' || !/^\d{1,9}$/.test(cursor)) {
    throw new InvalidArgumentError(
      'cursor',
      'expected the cursor a previous listForUser page returned, unchanged.',
    );
  }
  return Number(cursor);
}
