import { randomUUID } from 'node:crypto';
import {
  ClosedError,
  createKeyspace,
  InvalidArgumentError,
  type RedisConnection,
  TimeoutError,
  toConnection,
} from '@redis-patterns/connection';
import { checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import {
  attemptPermit,
  countLive,
  extendHolder,
  giveBackPermit,
  releaseHolder,
  type SemaphoreKeys,
  semaphoreKeys,
} from './commands/semaphore.js';
import type { LeaseHandle } from './lease.js';
import { attemptLease } from './lease-attempt.js';
import {
  type AcquireOptions,
  checkLeaseOptions,
  type LockOptions,
  resolveAcquire,
  resolveOptions,
} from './options.js';
import { instrumentSemaphore } from './otel-leases.js';
import { acquireOrWait, type Outcome, PermitWaits } from './permit-waits.js';
import { ReleaseWakeups } from './wakeups.js';
import { runWithLease } from './with-lease.js';

/** A permit of a semaphore: one of its `permits` concurrent holders. */
export interface SemaphorePermit extends LeaseHandle {
  /**
   * Which permit this is, from 0 to `permits - 1`: no other live holder of the name has the same
   * slot, and the tokens of one slot rise like a mutex's. A resource that keeps one fence per slot
   * can refuse the writes of a stalled holder whose permit was given to someone else.
   */
  readonly slot: number;
}

/** Options of {@link createSemaphore}: those of `createLock` but `fair` and `durability`, plus `permits`. */
export interface SemaphoreOptions extends Omit<LockOptions, 'fair' | 'durability' | 'prefix'> {
  /** Prefix of every key: `<prefix>{<name>}` (the holders) and `<prefix>{<name>}:fence`. @default 'semaphore:' */
  prefix?: string;
  /**
   * How many holders a name admits at once (N), unless a call passes its own. Each call is checked
   * against its own limit, so callers of one name should agree on it (see the README).
   * @default none: every call must then pass `permits`
   */
  permits?: number;
}

/** Per-call options of `acquire()` and `withPermit()`. */
export interface PermitOptions extends AcquireOptions {
  /** The limit this call is granted under. @default the semaphore's `permits` */
  permits?: number;
}

/** A counting semaphore over Redis; see {@link createSemaphore}. */
export interface DistributedSemaphore extends AsyncDisposable {
  /**
   * Waits until fewer than `permits` holders hold `name`, takes a permit and returns it. Rejects with
   * `TimeoutError` after `acquireTimeoutMs`, with the signal's reason on abort, with
   * `ConnectionError` or `TimeoutError` if Redis fails, and with `InvalidArgumentError` before
   * sending anything.
   */
  acquire(name: string, options?: PermitOptions): Promise<SemaphorePermit>;
  /** Takes a permit if one is free right now (one round trip); null if all are held. */
  tryAcquire(
    name: string,
    options?: Pick<PermitOptions, 'permits' | 'ttlMs' | 'autoExtend'>,
  ): Promise<SemaphorePermit | null>;
  /**
   * Runs `fn` while holding a permit of `name`: acquires, extends while `fn` runs (unless this
   * call passes `autoExtend: false`), releases afterwards, also when `fn` throws. Rejects with
   * `LockLostError` if the permit was lost before `fn` finished, even if `fn` resolved.
   */
  withPermit<T>(
    name: string,
    fn: (signal: AbortSignal, permit: SemaphorePermit) => Promise<T> | T,
    options?: PermitOptions,
  ): Promise<T>;
  /** How many live holders `name` has now (expired ones not counted). */
  holders(name: string): Promise<number>;
  /** Rejects pending `acquire()` calls with `ClosedError` and closes the wake-up subscription. Held permits keep working. */
  close(): Promise<void>;
}

const PERMIT_OPTIONS = '{ permits?, signal?, acquireTimeoutMs?, ttlMs?, autoExtend? }';

/** The deadline error of a semaphore's `acquire()`. */
function noPermit(name: string, timeoutMs: number): TimeoutError {
  return new TimeoutError(
    `Semaphore "${name}" had no free permit within ${timeoutMs} ms: its holders kept them all. Raise acquireTimeoutMs or the permits, or see how many hold it with holders().`,
    timeoutMs,
  );
}

function checkPermits(value: number | undefined, fallback: number | undefined): number {
  checkInteger('permits', value, 1);
  const permits = value ?? fallback;
  if (permits === undefined) {
    throw new InvalidArgumentError(
      'permits',
      'expected how many holders the semaphore admits, here or in createSemaphore().',
    );
  }
  return permits;
}

/** Who attempts: the connection, the instance's id (in every owner id and release message). */
interface Attempter {
  conn: RedisConnection;
  instance: string;
  nextOwner(): string;
}

/** One attempt for one caller; a grant becomes its permit. */
async function attemptSemaphore(
  { conn, instance, nextOwner }: Attempter,
  name: string,
  keys: SemaphoreKeys,
  call: { permits: number; ttlMs: number; autoExtend: boolean },
  timeoutMs: number | undefined,
): Promise<Outcome<SemaphorePermit>> {
  const owner = nextOwner();
  const { holders, channel } = keys;
  const outcome = await attemptLease({
    conn,
    kind: 'semaphore',
    name,
    owner,
    ...call,
    request: () => attemptPermit(conn, { keys, owner, timeoutMs, ...call }),
    takeBack: () => giveBackPermit(conn, keys, owner, instance),
    holding: ({ slot }) => ({
      key: holders,
      extend: (ttlMs, bound) => extendHolder(conn, holders, `${slot}:${owner}`, ttlMs, bound),
      release: () => releaseHolder(conn, { holders, member: `${slot}:${owner}`, channel, instance }),
    }),
  });
  if (outcome.lease === undefined) return outcome;
  const { lease, reply } = outcome;
  return { handle: Object.assign(lease, { slot: reply.slot }), free: reply.free };
}

/**
 * Creates a counting semaphore: at most `permits` holders of one name at once, across processes.
 * Each permit has a fencing token and a slot, is extended in the background while held, and
 * aborts its signal if lost; waiters are woken when a permit is released. Nothing connects here.
 *
 * @example
 * ```ts
 * import { connect, createSemaphore } from '@redis-patterns/lock';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const semaphore = createSemaphore({ redis, prefix: 'app:sem:', permits: 3 });
 *
 * // At most 3 exports run at once, across every instance.
 * await semaphore.withPermit('exports', async (signal, { fencingToken }) => {
 *   await runExport({ signal, fencingToken });
 * });
 * ```
 */
export function createSemaphore(options: SemaphoreOptions): DistributedSemaphore {
  checkLeaseOptions(options, 'a semaphore');
  const given = checkOptions('options', options, 'an object with at least { redis }');
  checkInteger('permits', given.permits, 1);
  const defaultPermits = given.permits;
  const { permits: _permits, ...lockOptions } = given;
  const settings = resolveOptions({ ...lockOptions, prefix: given.prefix ?? 'semaphore:' });
  const keyspace = createKeyspace(settings.prefix);
  const conn: RedisConnection = toConnection(options.redis);
  const instance = randomUUID();
  const wakeups = new ReleaseWakeups(conn);
  const waits = new PermitWaits<SemaphorePermit>(wakeups, settings, instance);
  let sequence = 0;
  const attempter: Attempter = { conn, instance, nextOwner: () => `${instance}:${++sequence}` };
  let closed = false;

  const open = () => {
    if (closed) throw new ClosedError('This semaphore was closed; create a new one with createSemaphore().');
  };

  const semaphore: DistributedSemaphore = instrumentSemaphore({
    async acquire(name, acquireOptions) {
      const { permits: asked, ...rest } = checkOptions('options', acquireOptions, PERMIT_OPTIONS);
      const permits = checkPermits(asked, defaultPermits);
      const opts = resolveAcquire(settings, rest);
      const keys = semaphoreKeys(keyspace, name);
      open();
      const call = { permits, ttlMs: opts.ttlMs, autoExtend: opts.autoExtend };
      const target = {
        queue: name,
        name,
        channel: keys.channel,
        attempt: () => attemptSemaphore(attempter, name, keys, call, undefined),
        attemptWithin: (bound: number | undefined) => attemptSemaphore(attempter, name, keys, call, bound),
        timedOut: noPermit,
      };
      return acquireOrWait(waits, target, opts, conn.commandTimeoutMs);
    },

    async tryAcquire(name, tryOptions) {
      const { permits: asked, ...rest } = checkOptions(
        'options',
        tryOptions,
        '{ permits?, ttlMs?, autoExtend? }',
      );
      const permits = checkPermits(asked, defaultPermits);
      const opts = resolveAcquire(settings, rest);
      const keys = semaphoreKeys(keyspace, name);
      open();
      const outcome = await attemptSemaphore(
        attempter,
        name,
        keys,
        { permits, ttlMs: opts.ttlMs, autoExtend: opts.autoExtend },
        undefined,
      );
      return outcome.handle ?? null;
    },

    withPermit(name, fn, withOptions) {
      return runWithLease(fn, withOptions, (options) => semaphore.acquire(name, options));
    },

    async holders(name) {
      return countLive(conn, semaphoreKeys(keyspace, name).holders);
    },

    async close() {
      if (closed) return;
      closed = true;
      waits.close(
        new ClosedError(
          'The semaphore was closed while acquire() waited; create a new one with createSemaphore().',
        ),
      );
      await wakeups.close();
    },

    [Symbol.asyncDispose]() {
      return semaphore.close();
    },
  });
  return semaphore;
}
