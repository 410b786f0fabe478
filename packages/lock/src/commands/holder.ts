/**
 * The commands of a holder: WATCH + GET to check that it still owns the lock, then MULTI/EXEC to
 * release, extend or hand it over, on a pooled connection leased for the lock key (a WATCH belongs
 * to its socket). The keys are described in index.ts.
 */
import { isWatchError, type RedisClient, type RedisConnection } from '@redis-patterns/connection';
import { NotReplicatedError } from '../errors.js';
import type { Durability } from './attempts.js';
import type { LockKeys } from './index.js';

/** What the owner of a lock does with it, once WATCH + GET confirmed the ownership. */
export type Act =
  /** Delete the lock; `markUntil`: also mark this instance as waiting (it yields to the others). */
  | { kind: 'release'; markUntil?: number }
  | { kind: 'extend'; ttlMs: number }
  /**
   * Hand the lock to another owner (a local waiter) with a fresh fencing token, in one EXEC.
   * `yieldIfOthers`: this process has had its turn; if other processes wait, release instead.
   */
  | { kind: 'transfer'; owner: string; ttlMs: number; yieldIfOthers: boolean };

export type Ownership = 'owned' | 'expired' | 'taken';

/** The check: who owns the lock, and whether instances other than ours wait for it. */
export interface Check {
  ownership: Ownership;
  /** Undefined when not asked. */
  othersWaiting: boolean | undefined;
}

/** `conflict`: EXEC was aborted by WATCH (the key changed after the check). */
export type ActOutcome =
  /** `rearmError`: the act happened, but re-arming failed and left the connection in doubt. */
  | { outcome: 'done'; fencingToken?: number; rearmed?: Check; rearmError?: unknown }
  | { outcome: 'expired' | 'taken' | 'conflict' };

/** Who acts: the lock instance, and whether its grants wait for replicas. */
export interface Actor {
  instance: string;
  durability: Durability | undefined;
}

/**
 * A connection leased to one holder's checks and acts on one lock: a WATCH set by `check` stays
 * armed until the next `act` on the same socket.
 */
export interface WatchLease {
  /** WATCH + GET for `owner` (see watchOwner); `askOthers`: our instance id, to read who else waits. */
  check(owner: string, askOthers: string | undefined): Promise<Check>;
  /** MULTI <act> EXEC for `owner`, whose ownership a check on this lease confirmed (see act). */
  act(owner: string, next: Act, actor: Actor): Promise<ActOutcome>;
}

/**
 * Runs `body` on a pooled connection leased for `keys.lock`. The pool clears a WATCH left armed
 * before it lends the connection again, and drops it if `body` fails with a timeout or connection
 * error (a socket in doubt).
 */
export function leaseWatch<T>(
  conn: RedisConnection,
  keys: LockKeys,
  body: (lease: WatchLease) => Promise<T>,
): Promise<T> {
  return conn.isolated(keys.lock, (client) =>
    body({
      check: (owner, askOthers) => watchOwner(conn, client, keys, owner, askOthers),
      act: (owner, next, actor) => act(conn, client, keys, owner, next, actor),
    }),
  );
}

/**
 * WATCH lock; GET lock, written together (no await between them): one round trip. WATCH makes the
 * next EXEC on this connection fail if anyone touches the key after this read (another owner's
 * SET, an expiry, a DEL, our own PEXPIRE elsewhere), so acting on what GET showed is safe. With
 * `askOthers`, the same write reads which other instances wait (to decide on a local hand-over).
 */
async function watchOwner(
  conn: RedisConnection,
  client: RedisClient,
  keys: LockKeys,
  owner: string,
  askOthers: string | undefined,
): Promise<Check> {
  const watch = client.watch(keys.lock);
  const get = client.get(keys.lock);
  const others =
    askOthers === undefined
      ? undefined
      : client.zRangeByScore(keys.waiters, `(${Date.now()}`, '+inf', { LIMIT: { offset: 0, count: 2 } });
  const [, current, waiting] = await conn.bounded(
    Promise.all([watch, get, others]),
    undefined,
    'WATCH + GET',
  );
  return {
    ownership: current === owner ? 'owned' : current === null ? 'expired' : 'taken',
    othersWaiting: waiting === undefined ? undefined : waiting.some((instance) => instance !== askOthers),
  };
}

/**
 * MULTI <act> EXEC on a connection whose WATCH confirmed `owner`. Release deletes the lock and wakes
 * the waiters (SPUBLISH of our instance id in the same EXEC); extend sets its TTL; transfer sets the
 * next owner and INCRs the fence. After extend or transfer, WATCH + GET for the (new) owner go out
 * in the same write, so the next act on this connection needs no separate check round trip
 * (`rearmed`). With durability, WAIT follows the EXEC on the same socket, and an extension or
 * hand-over that did not reach the replicas is reported as {@link NotReplicatedError}.
 */
async function act(
  conn: RedisConnection,
  client: RedisClient,
  keys: LockKeys,
  owner: string,
  next: Act,
  actor: Actor,
): Promise<ActOutcome> {
  const multi = client.multi();
  if (next.kind === 'release') {
    multi.del(keys.lock);
    if (next.markUntil !== undefined)
      multi.zAdd(keys.waiters, { score: next.markUntil, value: actor.instance });
    multi.sPublish(keys.channel, actor.instance);
  } else if (next.kind === 'extend') multi.pExpire(keys.lock, next.ttlMs);
  else {
    multi.set(keys.lock, next.owner, { expiration: { type: 'PX', value: next.ttlMs } }).incr(keys.fence);
  }
  const exec = conn.bounded(multi.exec(), undefined, 'lock release/extend');
  const { durability } = actor;
  const waited =
    durability === undefined || next.kind === 'release'
      ? undefined
      : conn.bounded(
          client.sendCommand([
            'WAIT',
            String(durability.replicas),
            String(durability.timeoutMs),
          ]) as Promise<number>,
          (conn.commandTimeoutMs || 5_000) + durability.timeoutMs,
          'WAIT',
        );
  const nextOwner = next.kind === 'transfer' ? next.owner : owner;
  const rearm = next.kind === 'release' ? undefined : watchOwner(conn, client, keys, nextOwner, undefined);
  // Either may fail before EXEC answers (a socket that dropped fails them at once): handled below.
  rearm?.catch(() => {});
  waited?.catch(() => {});
  let reply: unknown[];
  try {
    reply = (await exec) as unknown[];
  } catch (err) {
    await Promise.allSettled([rearm, waited]);
    if (isWatchError(err)) return { outcome: 'conflict' };
    throw err;
  }
  if (waited !== undefined && durability !== undefined) {
    const replicas = await waited;
    if (replicas < durability.replicas) {
      await rearm?.catch(() => {});
      throw new NotReplicatedError(keys.lock, replicas, durability);
    }
  }
  const done = next.kind === 'transfer' ? { fencingToken: Number(reply[1]) } : {};
  if (rearm === undefined) return { outcome: 'done', ...done };
  try {
    const check = await rearm;
    return { outcome: 'done', ...done, ...(check.ownership === 'owned' ? { rearmed: check } : {}) };
  } catch (rearmError) {
    return { outcome: 'done', ...done, rearmError };
  }
}

/** A lock to release: its keys, its owner, and the instance whose id the release message carries. */
export interface OwnedLock {
  keys: LockKeys;
  owner: string;
  instance: string;
}

/**
 * Releases several locks of one slot (at least one) on one leased connection in two round trips:
 * WATCH every lock and MGET their owners (one write), then one EXEC that deletes the locks still
 * ours and wakes their waiters. `null` means the EXEC was aborted by WATCH (some lock changed after
 * the check): nothing was deleted, and each release must be retried on its own.
 */
export function releaseMany(
  conn: RedisConnection,
  locks: readonly OwnedLock[],
): Promise<Array<Exclude<Ownership, 'owned'> | 'done'> | null> {
  return conn.isolated((locks[0] as OwnedLock).keys.lock, (client) => watchAndRelease(conn, client, locks));
}

async function watchAndRelease(
  conn: RedisConnection,
  client: RedisClient,
  locks: readonly OwnedLock[],
): Promise<Array<Exclude<Ownership, 'owned'> | 'done'> | null> {
  const names = locks.map((l) => l.keys.lock);
  const [, current] = await conn.bounded(
    Promise.all([client.watch(names), client.mGet(names)]),
    undefined,
    'WATCH + MGET',
  );
  const outcomes = locks.map((l, i) =>
    current[i] === l.owner
      ? ('done' as const)
      : current[i] === null
        ? ('expired' as const)
        : ('taken' as const),
  );
  if (!outcomes.includes('done')) return outcomes;
  const multi = client.multi();
  locks.forEach((l, i) => {
    if (outcomes[i] === 'done') multi.del(l.keys.lock).sPublish(l.keys.channel, l.instance);
  });
  try {
    await conn.bounded(multi.exec(), undefined, 'lock release');
  } catch (err) {
    if (isWatchError(err)) return null;
    throw err;
  }
  return outcomes;
}
