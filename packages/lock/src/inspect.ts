import {
  ClosedError,
  checkKeyPart,
  createKeyspace,
  escapeGlob,
  InvalidArgumentError,
  type Keyspace,
  type RedisConnection,
  type RedisLike,
  toConnection,
} from '@redis-patterns/connection';
import { checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import { keyExists, nameKeys, pingServer, readName, releaseName, releaseOne } from './commands/inspect.js';
import { decodeCursor, scanCandidates } from './inspect-scan.js';
import { instrumentLockInspector } from './otel-leases.js';

/** Options of {@link createLockInspector}. */
export interface LockInspectorOptions {
  /** A connection from `connect()`, or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /**
   * The prefix of the locks to inspect, as given to `createLock`, `createSemaphore` or
   * `createReadWriteLock`; every kind of lock under it is found. Those factories' defaults differ
   * (`'lock:'`, `'semaphore:'`, `'rwlock:'`): inspect each prefix with its own inspector.
   * @default 'lock:'
   */
  prefix?: string;
}

/** The kinds of lock this package makes: `createLock`, `createSemaphore`, `createReadWriteLock`. */
export type LockKind = 'mutex' | 'semaphore' | 'read-write';

/** A grant held now. */
export interface LockHolder {
  /** The owner id of the grant (`<instance id>:<sequence>`, the lock instance that took it first). */
  owner: string;
  /**
   * The grant's fencing token: known for a mutex (the name's fencing counter, which only its
   * current grant can have moved); absent for semaphores and read/write locks, whose holders share
   * one counter that Redis does not record per holder (see `lastFencingToken`).
   */
  fencingToken?: number;
  /** How long the grant lives unless it is extended, in ms (by the Redis server's clock). */
  ttlMs: number;
  /** A semaphore permit's slot, from 0 to `permits - 1`. */
  slot?: number;
  /** A read/write lock holder's mode. */
  mode?: 'read' | 'write';
}

/** A waiter Redis records, in the order it will be served where there is one. */
export interface LockWaiter {
  /**
   * `process`: a lock instance (process) that waits for a mutex and asks its holder to yield after
   * its turn; `queued`: an `acquire()` call in the FIFO queue of a `fair: true` mutex, oldest first;
   * `writer`: an `acquireWrite()` call whose intent holds new readers back.
   */
  kind: 'process' | 'queued' | 'writer';
  /** The instance id (`process`), the waiting caller's owner id (`queued`), or the intent id (`writer`). */
  id: string;
  /** How long the waiter counts as waiting unless its next attempt renews it, in ms. */
  ttlMs: number;
}

/** One lock name as Redis holds it now; see {@link LockInspector.get}. */
export interface InspectedLock {
  /** The name passed to `acquire`. */
  name: string;
  /** What kind of lock the name is. */
  kind: LockKind;
  /** The live grants, at most 1,000 (see `holderCount`); for a read/write lock, readers or the writer. */
  holders: LockHolder[];
  /** How many live grants there are, including those not listed in `holders`. */
  holderCount: number;
  /** The waiters Redis records (a semaphore records none), at most 1,000 of each kind. */
  waiters: LockWaiter[];
  /** The name's fencing counter: the token of its latest grant, of any holder; absent if never granted. */
  lastFencingToken?: number;
}

/** Options of {@link LockInspector.list}. */
export interface LockListOptions {
  /** Where to go on: the `cursor` of the previous page. @default the start */
  cursor?: string;
  /** Most names per page, 1 to 1,000. @default 100 */
  count?: number;
}

/** A page of names held now, and the cursor of the next page (undefined: there is no more). */
export interface LockPage {
  /** The names held now on this page (a page may be empty and still have a next one). */
  items: InspectedLock[];
  /** Pass it to the next `list()` call; undefined at the end. */
  cursor: string | undefined;
}

/** The inspect API of the locks under one prefix; see {@link createLockInspector}. */
export interface LockInspector extends AsyncDisposable {
  /**
   * One page of the names held now, with their holders and waiters: a cluster-wide SCAN over the
   * prefix, touching at most `count` names (plus a few keys each). Like SCAN, a name held during
   * the whole listing is listed at least once; one taken or released meanwhile may or may not be.
   */
  list(options?: LockListOptions): Promise<LockPage>;
  /** The holders and waiters of `name` now; null if Redis records none. Writes nothing. */
  get(name: string): Promise<InspectedLock | null>;
  /**
   * Removes every grant of `name` (the mutex's owner, every permit, the readers and the writer) and
   * wakes its waiters as a release does; waiters keep their places. Each holder finds its grant gone
   * at its next extension or release, as after an expiry: its `signal` aborts with a `LockLostError`.
   * The fencing counter is kept, so tokens keep rising. Returns how many live grants it removed.
   */
  forceRelease(name: string): Promise<number>;
  /**
   * Removes the grant of `owner` only (an owner id from `holders`) and wakes the waiters; a newer
   * grant of the name is never touched. True if that grant was live. The holder learns of it as
   * with {@link LockInspector.forceRelease}.
   */
  forceReleaseHolder(name: string, owner: string): Promise<boolean>;
  /** Round-trip time of a PING in milliseconds: is Redis reachable from here. */
  ping(): Promise<number>;
  /** Rejects later calls with `ClosedError`; the connection stays open (close it yourself). */
  close(): Promise<void>;
}

/** Most entries of one set (holders, waiters) returned per name. */
const MAX_ENTRIES = 1_000;
const MAX_COUNT = 1_000;

/** A holder's TTL from its expiry score, by the server clock `now`. */
const leftMs = (score: string, now: number) => Math.max(0, Number(score) - now);

function pairs(flat: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}

/** Reads `name` and shapes what the script returned; null if nothing is recorded. */
async function inspectName(conn: RedisConnection, keyspace: Keyspace, name: string) {
  const r = await readName(conn, nameKeys(keyspace, name), MAX_ENTRIES);
  if (r.kind === 'none') return null;
  const [a, b, c] = r.lists;
  const token = r.fence === undefined ? {} : { lastFencingToken: r.fence };
  const waiting = (kind: LockWaiter['kind'], list: string[]): LockWaiter[] =>
    pairs(list).map(([id, score]) => ({ kind, id, ttlMs: leftMs(score, r.now) }));
  let holders: LockHolder[];
  let waiters: LockWaiter[] = [];
  if (r.kind === 'mutex') {
    const [owner, pttl] = a;
    holders =
      owner === undefined
        ? []
        : [{ owner, ...(r.fence === undefined ? {} : { fencingToken: r.fence }), ttlMs: Number(pttl) }];
    waiters = [...waiting('queued', c), ...waiting('process', b)];
  } else if (r.kind === 'semaphore') {
    holders = pairs(a).map(([member, score]) => {
      const colon = member.indexOf(':');
      return {
        owner: member.slice(colon + 1),
        ttlMs: leftMs(score, r.now),
        slot: Number(member.slice(0, colon)),
      };
    });
  } else {
    const mode =
      (m: 'read' | 'write') =>
      ([owner, score]: [string, string]) =>
        ({ owner, ttlMs: leftMs(score, r.now), mode: m }) as LockHolder;
    holders = [...pairs(b).map(mode('write')), ...pairs(a).map(mode('read'))];
    waiters = waiting('writer', c);
  }
  return { name, kind: r.kind, holders, holderCount: r.holders, waiters, ...token } as InspectedLock;
}

function checkName(name: unknown): asserts name is string {
  checkKeyPart('name', name);
}

/**
 * Creates the inspect API of the locks under `prefix`: which names are held, by whom (owner id,
 * fencing token, TTL left), who waits, and explicit force-releases. Built for operators, the
 * `redis-patterns` CLI and the dashboard: it needs only a connection and the prefix, never the
 * app's lock options. Every call is bounded by the connection's command timeout; the read-only
 * calls write nothing. Nothing connects here.
 *
 * @example
 * ```ts
 * import { connect, createLockInspector } from '@redis-patterns/lock';
 *
 * await using redis = await connect({ url: process.env.REDIS_URL });
 * await using inspector = createLockInspector({ redis, prefix: 'app:lock:' });
 *
 * let cursor: string | undefined;
 * do {
 *   const page = await inspector.list({ cursor, count: 100 });
 *   for (const lock of page.items)
 *     console.log(lock.name, lock.kind, lock.holders.map((h) => `${h.owner} (${h.ttlMs} ms left)`));
 *   cursor = page.cursor;
 * } while (cursor !== undefined);
 *
 * // A stuck holder: free the name; its waiters are woken at once.
 * const removed = await inspector.forceRelease('nightly-report');
 * ```
 */
export function createLockInspector(options: LockInspectorOptions): LockInspector {
  if (options === undefined)
    throw new InvalidArgumentError('options', 'expected an object with at least { redis }.');
  const given = checkOptions('options', options, 'an object with at least { redis }');
  const keyspace = createKeyspace(given.prefix ?? 'lock:');
  const conn: RedisConnection = toConnection(options.redis);
  const basePattern = `${escapeGlob(keyspace.prefix)}{*}`;
  let closed = false;
  const open = () => {
    if (closed)
      throw new ClosedError('This inspector was closed; create a new one with createLockInspector().');
  };

  const inspector: LockInspector = instrumentLockInspector({
    async list(listOptions) {
      const { cursor, count = 100 } = checkOptions('options', listOptions, '{ cursor?, count? }');
      checkInteger('count', count, 1);
      if (count > MAX_COUNT)
        throw new InvalidArgumentError('count', `expected at most ${MAX_COUNT}, got ${count}.`);
      if (cursor !== undefined) decodeCursor(cursor);
      open();
      const page = await scanCandidates(conn, basePattern, cursor, count);
      const { candidates } = page;
      const seen = new Set<string>();
      const items = await Promise.all(
        candidates.map(async ({ key, viaReaders }) => {
          const name = keyspace.tagOf(key);
          if (name === undefined || seen.has(name)) return null;
          seen.add(name);
          // A read/write lock with a writer key is listed through that key: once, not twice.
          if (viaReaders && (await keyExists(conn, nameKeys(keyspace, name).writer))) return null;
          const lock = await inspectName(conn, keyspace, name);
          return lock !== null && lock.holderCount > 0 ? lock : null;
        }),
      );
      return {
        items: items.filter((lock): lock is InspectedLock => lock !== null),
        cursor: page.cursor,
      };
    },

    async get(name) {
      checkName(name);
      open();
      return inspectName(conn, keyspace, name);
    },

    async forceRelease(name) {
      checkName(name);
      open();
      return releaseName(conn, nameKeys(keyspace, name));
    },

    async forceReleaseHolder(name, owner) {
      checkName(name);
      checkKeyPart('owner', owner);
      open();
      return releaseOne(conn, nameKeys(keyspace, name), owner);
    },

    async ping() {
      open();
      return pingServer(conn);
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
