/**
 * Every Redis command of the lock is sent from this module (src/commands/): acquisition attempts in
 * attempts.ts, a holder's WATCH + MULTI/EXEC in holder.ts, the release channel's subscriber in
 * subscriber.ts, the scripts of `acquireAll()` (one call per hash slot of the names) in multi.ts,
 * and the single commands below. `scripts.<name>` is src/lua/<name>.lua.
 *
 * Keys of one lock name share the hash tag `{name}`, so they live in one Cluster slot and one
 * script or MULTI can touch them all:
 *   <prefix>{name}            the lock: value = owner id, PX = TTL
 *   <prefix>{name}:fence      the fencing counter (INCR, never expires)
 *   <prefix>{name}:waiters    the lock instances (processes) waiting for it, with an expiry each
 *   <prefix>{name}:queue, :marks   the strict FIFO queue of `fair` locks and its waiters' expiries
 *   <prefix>{name}:released   sharded pub/sub channel: one message per release (wakes waiters)
 *
 * Why every grant's fencing token is strictly greater than every earlier grant's: a grant sets the
 * lock to a new owner and INCRs the counter in one atomic step (acquire: a script doing SET NX and
 * INCR; hand-over: SET + INCR in one EXEC under WATCH). Both keys share one slot, so one Redis node
 * runs every such step, one after the other. Let grant A precede grant B (B's SET succeeded, so A's
 * ownership had ended: A's key was deleted, expired or handed over, all after A's step). Then B's
 * step runs after A's, so B's INCR runs after A's INCR on the same counter, and INCR only grows:
 * token(B) > token(A). The counter never expires; if Redis loses it (restart without persistence,
 * failover to a lagging replica), tokens start again at 1.
 */
import type { Keyspace, RedisConnection } from '@redis-patterns/connection';
import { TickBatcher } from '@redis-patterns/connection/internal';
import { scripts } from '../lua.generated.js';

export {
  type Attempt,
  type AttemptRequest,
  attemptDurably,
  attemptFair,
  attemptGrant,
  type Durability,
  leaveFair,
} from './attempts.js';
export {
  type Act,
  type ActOutcome,
  type Actor,
  type Check,
  leaseWatch,
  type OwnedLock,
  type Ownership,
  releaseMany,
  type WatchLease,
} from './holder.js';
export {
  attemptGroup,
  extendGroup,
  type MultiAttempt,
  type MultiGroup,
  type NameState,
  releaseGroup,
} from './multi.js';
export {
  closeSubscriber,
  openSubscriber,
  type ReleaseListener,
  shardSubscribe,
  shardUnsubscribe,
} from './subscriber.js';

/** The keys and channel of one lock name. */
export interface LockKeys {
  lock: string;
  fence: string;
  waiters: string;
  queue: string;
  marks: string;
  channel: string;
}

export function lockKeys(keyspace: Keyspace, name: string): LockKeys {
  const lock = keyspace.key(name);
  const at = (part: string) => `${lock}:${part}`;
  return {
    lock,
    fence: at('fence'),
    waiters: at('waiters'),
    queue: at('queue'),
    marks: at('marks'),
    channel: at('released'),
  };
}

/** The connection's batcher in `batchers`, made with `flush` on first use. */
export function batcherOf<T>(
  batchers: WeakMap<RedisConnection, TickBatcher<T>>,
  conn: RedisConnection,
  flush: (items: T[]) => void,
): TickBatcher<T> {
  let batcher = batchers.get(conn);
  if (batcher === undefined) {
    batcher = new TickBatcher(flush);
    batchers.set(conn, batcher);
  }
  return batcher;
}

/**
 * Deletes the lock if `owner` holds it and wakes the waiters, in one script: `released`, or why not
 * (`expired`: no lock; `taken`: another owner's). A `fair` lock's release wakes only the caller
 * whose turn it is (see scripts.fairRelease).
 */
export async function releaseIfOwner(
  conn: RedisConnection,
  keys: LockKeys,
  owner: string,
  instance: string,
  fair = false,
): Promise<'released' | 'expired' | 'taken'> {
  const reply = await conn.runScript<number>(
    fair ? scripts.fairRelease : scripts.releaseIfOwner,
    fair ? [keys.lock, keys.queue, keys.marks] : [keys.lock],
    [owner, keys.channel, instance],
  );
  return reply === 1 ? 'released' : reply === 0 ? 'expired' : 'taken';
}

/** Deletes the lock whoever holds it and wakes the waiters; true if there was a lock. */
export async function forceDelete(conn: RedisConnection, keys: LockKeys): Promise<boolean> {
  return (await conn.runScript<number>(scripts.forceRelease, [keys.lock], [keys.channel])) === 1;
}

/** This instance no longer waits for the lock (best effort: its mark expires anyway). */
export async function unmark(conn: RedisConnection, keys: LockKeys, instance: string): Promise<void> {
  await conn.send(['ZREM', keys.waiters, instance], { key: keys.waiters });
}

/** True while anyone holds the lock. */
export async function exists(conn: RedisConnection, keys: LockKeys): Promise<boolean> {
  return (await conn.send<number>(['EXISTS', keys.lock], { key: keys.lock, readonly: true })) === 1;
}
