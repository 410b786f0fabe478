import { randomUUID } from 'node:crypto';
import {
  ClosedError,
  createKeyspace,
  type RedisConnection,
  TimeoutError,
  toConnection,
} from '@redis-patterns/connection';
import { checkOptions } from '@redis-patterns/connection/internal';
import { attemptRw, type RwKeys, rwKeys, withdrawIntent } from './commands/rw-lock.js';
import { countLive, extendHolder, releaseHolder } from './commands/semaphore.js';
import type { LeaseHandle } from './lease.js';
import { attemptLease } from './lease-attempt.js';
import {
  type AcquireOptions,
  checkLeaseOptions,
  type LockOptions,
  resolveAcquire,
  resolveOptions,
} from './options.js';
import { instrumentReadWriteLock } from './otel-leases.js';
import { acquireOrWait, type Outcome, PermitWaits } from './permit-waits.js';
import { ReleaseWakeups } from './wakeups.js';
import { runWithLease } from './with-lease.js';

/** A held read or write lock. */
export interface ReadWriteHandle extends LeaseHandle {
  /** `read`: shared with other readers; `write`: exclusive. */
  readonly mode: 'read' | 'write';
}

/** Options of {@link createReadWriteLock}: those of `createLock` but `fair` and `durability`. */
export interface ReadWriteLockOptions extends Omit<LockOptions, 'fair' | 'durability' | 'prefix'> {
  /**
   * Prefix of every key: `<prefix>{<name>}:readers`, `:writer`, `:intents` and `:fence`.
   * @default 'rwlock:'
   */
  prefix?: string;
}

/** Who holds a read/write lock now, and whether writers wait. */
export interface ReadWriteState {
  /** Live readers. */
  readers: number;
  /** True while a writer holds it. */
  writer: boolean;
  /** Writers whose intent to write currently holds new readers back. */
  writersWaiting: number;
}

/** A read/write lock over Redis; see {@link createReadWriteLock}. */
export interface DistributedReadWriteLock extends AsyncDisposable {
  /**
   * Waits until no writer holds `name` and none waits, then holds it for reading, shared with other
   * readers. Rejects like `DistributedLock.acquire()`.
   */
  acquireRead(name: string, options?: AcquireOptions): Promise<ReadWriteHandle>;
  /**
   * Waits until nobody holds `name`, then holds it alone. While it waits, new readers are held back
   * (its intent lapses unless renewed, so a writer that died while waiting blocks them briefly).
   */
  acquireWrite(name: string, options?: AcquireOptions): Promise<ReadWriteHandle>;
  /** Takes a read lock if possible right now (one round trip); null otherwise. */
  tryAcquireRead(
    name: string,
    options?: Pick<AcquireOptions, 'ttlMs' | 'autoExtend'>,
  ): Promise<ReadWriteHandle | null>;
  /** Takes the write lock if nobody holds `name` right now (one round trip); null otherwise. Leaves no intent. */
  tryAcquireWrite(
    name: string,
    options?: Pick<AcquireOptions, 'ttlMs' | 'autoExtend'>,
  ): Promise<ReadWriteHandle | null>;
  /** Runs `fn` under a read lock, as `DistributedLock.withLock` does under the lock. */
  withReadLock<T>(
    name: string,
    fn: (signal: AbortSignal, handle: ReadWriteHandle) => Promise<T> | T,
    options?: AcquireOptions,
  ): Promise<T>;
  /** Runs `fn` under the write lock, as `DistributedLock.withLock` does under the lock. */
  withWriteLock<T>(
    name: string,
    fn: (signal: AbortSignal, handle: ReadWriteHandle) => Promise<T> | T,
    options?: AcquireOptions,
  ): Promise<T>;
  /** Who holds `name` now, and how many writers wait. */
  state(name: string): Promise<ReadWriteState>;
  /** Rejects pending acquisitions with `ClosedError` and closes the wake-up subscription. Held locks keep working. */
  close(): Promise<void>;
}

function notGranted(mode: 'read' | 'write') {
  return (name: string, timeoutMs: number) =>
    new TimeoutError(
      mode === 'read'
        ? `Read lock "${name}" was not acquired within ${timeoutMs} ms: a writer held it or waited for it. Raise acquireTimeoutMs, or see who holds it with state().`
        : `Write lock "${name}" was not acquired within ${timeoutMs} ms: readers or another writer held it. Raise acquireTimeoutMs, or see who holds it with state().`,
      timeoutMs,
    );
}

/** One read or write attempt; a grant becomes its handle. */
async function attemptReadWrite(
  { conn, instance, nextOwner }: { conn: RedisConnection; instance: string; nextOwner(): string },
  name: string,
  keys: RwKeys,
  call: { mode: 'read' | 'write'; ttlMs: number; autoExtend: boolean; intent: string; intentMs: number },
  timeoutMs: number | undefined,
): Promise<Outcome<ReadWriteHandle>> {
  const owner = nextOwner();
  const holders = call.mode === 'read' ? keys.readers : keys.writer;
  const release = () => releaseHolder(conn, { holders, member: owner, channel: keys.channel, instance });
  const outcome = await attemptLease({
    conn,
    kind: call.mode,
    name,
    owner,
    ...call,
    request: () => attemptRw(conn, { keys, owner, timeoutMs, ...call }),
    takeBack: release,
    holding: () => ({
      key: holders,
      extend: (ttlMs, bound) => extendHolder(conn, holders, owner, ttlMs, bound),
      release,
    }),
  });
  if (outcome.lease === undefined) return outcome;
  // Readers may all enter together: let the waiting readers of this process try at once.
  return { handle: Object.assign(outcome.lease, { mode: call.mode }), free: call.mode === 'read' ? 100 : 0 };
}

/**
 * Creates a read/write lock: many readers or one writer per name, across processes. A waiting
 * writer holds new readers back, so a stream of readers cannot starve it; fencing tokens rise
 * across readers and writers in grant order; grants are extended in the background and abort
 * their signal when lost; waiters are woken on release. Nothing connects here.
 *
 * @example
 * ```ts
 * import { connect, createReadWriteLock } from '@redis-patterns/lock';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const rw = createReadWriteLock({ redis, prefix: 'app:rw:' });
 *
 * const prices = await rw.withReadLock('price-list', () => loadPrices());
 * await rw.withWriteLock('price-list', async (signal, { fencingToken }) => {
 *   await savePrices(prices, { signal, fencingToken });
 * });
 * ```
 */
export function createReadWriteLock(options: ReadWriteLockOptions): DistributedReadWriteLock {
  checkLeaseOptions(options, 'a read/write lock');
  const given = checkOptions('options', options, 'an object with at least { redis }');
  const settings = resolveOptions({ ...given, prefix: given.prefix ?? 'rwlock:' });
  const keyspace = createKeyspace(settings.prefix);
  const conn: RedisConnection = toConnection(options.redis);
  const instance = randomUUID();
  const wakeups = new ReleaseWakeups(conn);
  const waits = new PermitWaits<ReadWriteHandle>(wakeups, settings, instance);
  let sequence = 0;
  const attempter = { conn, instance, nextOwner: () => `${instance}:${++sequence}` };
  let closed = false;

  const acquire = async (mode: 'read' | 'write', name: string, given?: AcquireOptions) => {
    const opts = resolveAcquire(settings, given);
    const keys = rwKeys(keyspace, name);
    if (closed)
      throw new ClosedError('This read/write lock was closed; create a new one with createReadWriteLock().');
    const call = {
      mode,
      ttlMs: opts.ttlMs,
      autoExtend: opts.autoExtend,
      intent: randomUUID(),
      intentMs: settings.markMs,
    };
    const target = {
      queue: `${mode}:${name}`,
      name,
      channel: keys.channel,
      attempt: () => attemptReadWrite(attempter, name, keys, call, undefined),
      attemptWithin: (bound: number | undefined) =>
        attemptReadWrite(
          attempter,
          name,
          keys,
          opts.timeoutMs === 0 ? { ...call, intentMs: 0 } : call,
          bound,
        ),
      timedOut: notGranted(mode),
    };
    const granted = acquireOrWait(waits, target, opts, conn.commandTimeoutMs);
    // A writer that gives up no longer holds readers back.
    if (mode === 'write')
      granted.catch(() => withdrawIntent(conn, keys, call.intent, instance).catch(() => {}));
    return granted;
  };

  const tryAcquire = async (
    mode: 'read' | 'write',
    name: string,
    given?: Pick<AcquireOptions, 'ttlMs' | 'autoExtend'>,
  ) => {
    const opts = resolveAcquire(settings, checkOptions('options', given, '{ ttlMs?, autoExtend? }'));
    const keys = rwKeys(keyspace, name);
    if (closed)
      throw new ClosedError('This read/write lock was closed; create a new one with createReadWriteLock().');
    const call = { mode, ttlMs: opts.ttlMs, autoExtend: opts.autoExtend, intent: '', intentMs: 0 };
    return (await attemptReadWrite(attempter, name, keys, call, undefined)).handle ?? null;
  };

  const rw: DistributedReadWriteLock = instrumentReadWriteLock({
    acquireRead: (name, given) => acquire('read', name, given),
    acquireWrite: (name, given) => acquire('write', name, given),
    tryAcquireRead: (name, given) => tryAcquire('read', name, given),
    tryAcquireWrite: (name, given) => tryAcquire('write', name, given),
    withReadLock: (name, fn, given) => runWithLease(fn, given, (o) => rw.acquireRead(name, o)),
    withWriteLock: (name, fn, given) => runWithLease(fn, given, (o) => rw.acquireWrite(name, o)),
    async state(name) {
      const keys = rwKeys(keyspace, name);
      const [readers, writer, writersWaiting] = await Promise.all(
        [keys.readers, keys.writer, keys.intents].map((key) => countLive(conn, key)),
      );
      return { readers: readers as number, writer: writer === 1, writersWaiting: writersWaiting as number };
    },
    async close() {
      if (closed) return;
      closed = true;
      waits.close(
        new ClosedError('The read/write lock was closed while acquire() waited; create a new one.'),
      );
      await wakeups.close();
    },
    [Symbol.asyncDispose]() {
      return rw.close();
    },
  });
  return rw;
}
