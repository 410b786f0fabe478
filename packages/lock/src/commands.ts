/**
 * Every Redis command of the lock, in one place.
 *
 * Keys of one lock name share the hash tag `{name}`, so they live in one Cluster slot and one
 * MULTI can touch them all:
 *   <prefix>{name}            the lock: value = owner id, PX = TTL
 *   <prefix>{name}:fence      the fencing counter (INCR, never expires)
 *   <prefix>{name}:released   sharded pub/sub channel: one message per release (wakes waiters)
 *
 * Why every grant's fencing token is strictly greater than every earlier grant's: a grant is an EXEC
 * that sets the lock to a new owner and INCRs the counter (acquire: SET NX + INCR; hand-over:
 * SET + INCR under WATCH). Both keys share one slot, so one Redis node runs every such EXEC, one
 * after the other, and nothing runs inside an EXEC. Let grant A precede grant B (B's SET succeeded,
 * so A's ownership had ended: A's key was deleted, expired or handed over, all after A's EXEC). Then
 * B's EXEC runs after A's, so B's INCR runs after A's INCR on the same counter, and INCR only grows:
 * token(B) > token(A). Failed attempts INCR too, so tokens are monotonic but not dense (gaps are
 * normal). The counter never expires; if Redis loses it (restart without persistence, failover to a
 * lagging replica), tokens start again at 1.
 */
import {
  isWatchError,
  type Keyspace,
  type RedisClient,
  type RedisConnection,
  TickBatcher,
} from '@redis-patterns/connection';

/** The keys and channel of one lock name. */
export interface LockKeys {
  lock: string;
  fence: string;
  channel: string;
}

export function lockKeys(keyspace: Keyspace, name: string): LockKeys {
  const lock = keyspace.key(name);
  return { lock, fence: `${lock}:fence`, channel: `${lock}:released` };
}

/** A grant, or how long the current holder's TTL still runs (-1 without TTL, undefined if not asked). */
export type Attempt = { granted: true; fencingToken: number } | { granted: false; heldForMs?: number };

interface PendingAttempt {
  keys: LockKeys;
  owner: string;
  ttlMs: number;
  askHeldFor: boolean;
  resolve: (attempt: Attempt) => void;
  reject: (err: unknown) => void;
}

/** The attempts of each connection, gathered per tick. */
const attemptBatchers = new WeakMap<RedisConnection, TickBatcher<PendingAttempt>>();

/**
 * One acquisition attempt, one round trip: MULTI; SET lock owner NX PX ttl; INCR fence; [PTTL lock];
 * EXEC. Attempts made in the same tick share one MULTI per hash slot (each lock's SET and INCR stay
 * in one EXEC, which is all the ordering argument above needs), so 50 callers acquiring at once
 * cost Redis one MULTI/EXEC and one round trip instead of 50.
 */
export function attemptGrant(
  conn: RedisConnection,
  keys: LockKeys,
  owner: string,
  ttlMs: number,
  askHeldFor: boolean,
): Promise<Attempt> {
  const batcher = batcherOf(attemptBatchers, conn, (items) => {
    for (const group of conn.groupBySlot(items, (p) => p.keys.lock)) attemptGroup(conn, group);
  });
  return new Promise((resolve, reject) => batcher.add({ keys, owner, ttlMs, askHeldFor, resolve, reject }));
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

function attemptGroup(conn: RedisConnection, group: PendingAttempt[]): void {
  // Every lock of the group, so the EXEC keeps its order with each lock's other commands.
  const multi = conn.multi(
    (group[0] as PendingAttempt).keys.lock,
    group.map((p) => p.keys.lock),
  );
  for (const { keys, owner, ttlMs, askHeldFor } of group) {
    multi
      .set(keys.lock, owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })
      .incr(keys.fence);
    if (askHeldFor) multi.pTTL(keys.lock);
  }
  conn.bounded(multi.exec(), undefined, 'lock acquire').then(
    (replies) => {
      let at = 0;
      for (const p of group) {
        const [set, token, heldFor] = (replies as unknown[]).slice(at, at + 3);
        at += p.askHeldFor ? 3 : 2;
        if (set === 'OK') p.resolve({ granted: true, fencingToken: Number(token) });
        else p.resolve(p.askHeldFor ? { granted: false, heldForMs: Number(heldFor) } : { granted: false });
      }
    },
    (err: unknown) => {
      for (const p of group) p.reject(err);
    },
  );
}

/** What the owner of a lock does with it, once WATCH + GET confirmed the ownership. */
export type Act =
  | { kind: 'release' }
  | { kind: 'extend'; ttlMs: number }
  /** Hand the lock to another owner (a local waiter) with a fresh fencing token, in one EXEC. */
  | { kind: 'transfer'; owner: string; ttlMs: number };

/** `conflict`: EXEC was aborted by WATCH (the key changed after the check). */
export type Ownership = 'owned' | 'expired' | 'taken';
export type ActOutcome =
  /** `rearmError`: the act happened, but re-arming failed and left the connection in doubt. */
  | { outcome: 'done'; fencingToken?: number; rearmed: boolean; rearmError?: unknown }
  | { outcome: 'expired' | 'taken' | 'conflict' };

/**
 * WATCH lock; GET lock, written together (no await between them): one round trip. WATCH makes the
 * next EXEC on this connection fail if anyone touches the key after this read (another owner's
 * SET, an expiry, a DEL, our own PEXPIRE elsewhere), so acting on what GET showed is safe.
 */
export async function watchOwner(
  conn: RedisConnection,
  client: RedisClient,
  keys: LockKeys,
  owner: string,
): Promise<Ownership> {
  const [, current] = await conn.bounded(
    Promise.all([client.watch(keys.lock), client.get(keys.lock)]),
    undefined,
    'WATCH + GET',
  );
  return current === owner ? 'owned' : current === null ? 'expired' : 'taken';
}

/**
 * MULTI <act> EXEC on a connection whose WATCH confirmed `owner`. Release deletes the lock and wakes
 * the waiters (SPUBLISH in the same EXEC); extend sets its TTL; transfer sets the next owner and
 * INCRs the fence. After extend or transfer, WATCH + GET for the (new) owner go out in the same
 * write, so the next act on this connection needs no separate check round trip (`rearmed`).
 */
export async function act(
  conn: RedisConnection,
  client: RedisClient,
  keys: LockKeys,
  owner: string,
  next: Act,
): Promise<ActOutcome> {
  const multi = client.multi();
  if (next.kind === 'release') multi.del(keys.lock).sPublish(keys.channel, '1');
  else if (next.kind === 'extend') multi.pExpire(keys.lock, next.ttlMs);
  else {
    multi.set(keys.lock, next.owner, { expiration: { type: 'PX', value: next.ttlMs } }).incr(keys.fence);
  }
  const exec = conn.bounded(multi.exec(), undefined, 'lock release/extend');
  const nextOwner = next.kind === 'transfer' ? next.owner : owner;
  const rearm = next.kind === 'release' ? undefined : watchOwner(conn, client, keys, nextOwner);
  let reply: unknown[];
  try {
    reply = (await exec) as unknown[];
  } catch (err) {
    await rearm?.catch(() => {});
    if (isWatchError(err)) return { outcome: 'conflict' };
    throw err;
  }
  const done = next.kind === 'transfer' ? { fencingToken: Number(reply[1]) } : {};
  if (rearm === undefined) return { outcome: 'done', ...done, rearmed: false };
  try {
    return { outcome: 'done', ...done, rearmed: (await rearm) === 'owned' };
  } catch (rearmError) {
    return { outcome: 'done', ...done, rearmed: false, rearmError };
  }
}

/**
 * Releases several locks of one slot on one connection in two round trips: WATCH every lock and MGET
 * their owners (one write), then one EXEC that deletes the locks still ours and wakes their
 * waiters. `null` means the EXEC was aborted by WATCH (some lock changed after the check): nothing
 * was deleted, and each release must be retried on its own.
 */
export async function releaseMany(
  conn: RedisConnection,
  client: RedisClient,
  locks: ReadonlyArray<{ keys: LockKeys; owner: string }>,
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
    if (outcomes[i] === 'done') multi.del(l.keys.lock).sPublish(l.keys.channel, '1');
  });
  try {
    await conn.bounded(multi.exec(), undefined, 'lock release');
  } catch (err) {
    if (isWatchError(err)) return null;
    throw err;
  }
  return outcomes;
}

/** Deletes the lock whoever holds it and wakes the waiters; true if there was a lock. */
export async function forceDelete(conn: RedisConnection, keys: LockKeys): Promise<boolean> {
  const multi = conn.multi(keys.lock).del(keys.lock).sPublish(keys.channel, '1');
  const reply = (await conn.bounded(multi.exec(), undefined, 'lock forceRelease')) as unknown[];
  return reply[0] === 1;
}

/** True while anyone holds the lock. */
export async function exists(conn: RedisConnection, keys: LockKeys): Promise<boolean> {
  return (await conn.send<number>(['EXISTS', keys.lock], { key: keys.lock })) === 1;
}
