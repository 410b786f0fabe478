import type { RedisConnection } from '@redis-patterns/connection';
import type { TickBatcher } from '@redis-patterns/connection/internal';
import {
  type Act,
  type ActOutcome,
  type Actor,
  batcherOf,
  type Check,
  type LockKeys,
  leaseWatch,
  type Ownership,
  releaseIfOwner,
  releaseMany,
} from './commands/index.js';

/**
 * How long a WATCH left armed for a holder waits for that holder's next act (release, extend,
 * hand-over) before its pooled connection goes back to the pool. Contended critical sections are
 * short; a longer hold simply pays the separate WATCH + GET round trip when it releases.
 */
const ARMED_IDLE_MS = 100;

/**
 * The result of an act; `session` is the WATCH left armed for the owner after extend or hand-over.
 * `yielded`: a hand-over was asked for, but other processes wait for the lock, so it was released
 * instead (and this instance marked as waiting behind them).
 */
export type ActResult =
  | { outcome: 'done'; fencingToken?: number; session?: ArmedWatch; yielded?: boolean }
  | { outcome: Exclude<Ownership, 'owned'> };

/** Who acts, and for how long a yielding instance marks itself as waiting. */
export interface Acting extends Actor {
  markMs: number;
}

interface Request {
  next: Act;
  resolve: (result: ActResult) => void;
  reject: (err: unknown) => void;
}

/**
 * A WATCH on the lock key, armed for its current owner on a leased pooled connection, so that the
 * owner's next act is a single MULTI/EXEC round trip. Single use: `act()` consumes it.
 */
export class ArmedWatch {
  #deliver: ((request: Request | undefined) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  /** Runs `next` on the armed connection, or returns undefined if the session has ended. */
  act(next: Act): Promise<ActResult> | undefined {
    if (this.#ended) return undefined;
    this.#ended = true;
    clearTimeout(this.#timer);
    return new Promise((resolve, reject) => this.#deliver?.({ next, resolve, reject }));
  }

  /** Gives the connection back without acting. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#deliver?.(undefined);
  }

  /** @internal The owner's next request, or undefined once idle for `ms` or ended. */
  nextRequest(ms: number): Promise<Request | undefined> {
    return new Promise((resolve) => {
      this.#deliver = resolve;
      this.#timer = setTimeout(() => this.end(), ms);
      this.#timer.unref();
    });
  }
}

/**
 * Checks that `owner` holds the lock (WATCH + GET) and runs `first` (see `act` in
 * commands/holder.ts). A hand-over that ends this process's turn (`yieldIfOthers`) is only made
 * while no other process waits (the check reads their marks); otherwise the lock is released for
 * them and this instance marked as waiting behind them. After an extend or a hand-over the WATCH is
 * re-armed in the same write, and the connection stays leased for the owner's next act until it
 * idles: a chain of hand-overs between local waiters costs one round trip each. An EXEC aborted by
 * WATCH is checked again once, to report precisely what happened.
 */
export function runOwned(
  conn: RedisConnection,
  keys: LockKeys,
  owner: string,
  first: Act,
  actor: Acting,
): Promise<ActResult> {
  return new Promise<ActResult>((resolve, reject) => {
    let pending: Request & { owner: string } = { owner, next: first, resolve, reject };
    let armed: Check | undefined;
    leaseWatch(conn, keys, async (lease) => {
      for (let checks = 0; ; ) {
        const askOthers = pending.next.kind === 'transfer' && pending.next.yieldIfOthers;
        let check = armed;
        if (check === undefined || (askOthers && check.othersWaiting === undefined)) {
          check = await lease.check(pending.owner, askOthers ? actor.instance : undefined);
          checks++;
          if (check.ownership !== 'owned') return pending.resolve({ outcome: check.ownership });
        }
        const yielded = askOthers && check.othersWaiting === true;
        const next: Act = yielded ? { kind: 'release', markUntil: Date.now() + actor.markMs } : pending.next;
        const outcome: ActOutcome = await lease.act(pending.owner, next, actor);
        if (outcome.outcome === 'conflict') {
          if (checks >= 2) return pending.resolve({ outcome: 'taken' });
          armed = undefined;
          continue;
        }
        if (outcome.outcome !== 'done') return pending.resolve({ outcome: outcome.outcome });
        const result = {
          outcome: 'done' as const,
          ...(outcome.fencingToken === undefined ? {} : { fencingToken: outcome.fencingToken }),
          ...(yielded ? { yielded } : {}),
        };
        if (outcome.rearmed === undefined) {
          pending.resolve(result);
          // The act itself succeeded; a failed re-arm only makes the pool drop this connection.
          if (outcome.rearmError !== undefined) throw outcome.rearmError;
          return;
        }
        const session = new ArmedWatch();
        const request = session.nextRequest(ARMED_IDLE_MS);
        pending.resolve({ ...result, session });
        const nextOwner = next.kind === 'transfer' ? next.owner : pending.owner;
        const following = await request;
        if (following === undefined) return;
        pending = { ...following, owner: nextOwner };
        armed = outcome.rearmed;
        checks = 0;
      }
    }).catch((err: unknown) => pending.reject(err));
  });
}

interface PendingRelease {
  keys: LockKeys;
  owner: string;
  actor: Acting;
  resolve: (result: ActResult) => void;
  reject: (err: unknown) => void;
}

/** The releases of each connection, gathered per tick. */
const releaseBatchers = new WeakMap<RedisConnection, TickBatcher<PendingRelease>>();

/**
 * Releases `owner`'s lock. Alone in its tick and hash slot, that is one owner-checked script on the
 * shared connection. Releases asked for in the same tick on one connection share their WATCH and
 * EXEC (one batch per hash slot): at 50 holders releasing at once that is two round trips on one
 * pooled connection instead of one on each of 50. If the shared EXEC is aborted (some lock in the
 * batch changed after the check), each release is retried on its own (WATCH, then MULTI/EXEC), so
 * one contended lock never fails the others.
 */
export function releaseOwned(
  conn: RedisConnection,
  keys: LockKeys,
  owner: string,
  actor: Acting,
): Promise<ActResult> {
  const batcher = batcherOf(releaseBatchers, conn, (items) => {
    for (const group of conn.groupBySlot(items, (p) => p.keys.lock)) releaseGroup(conn, group);
  });
  return new Promise((resolve, reject) => batcher.add({ keys, owner, actor, resolve, reject }));
}

/** The release of a `fair` lock: one script that also names the waiter whose turn it is. */
export async function releaseFairOwned(
  conn: RedisConnection,
  keys: LockKeys,
  owner: string,
  actor: Acting,
): Promise<ActResult> {
  return actResultOf(await releaseIfOwner(conn, keys, owner, actor.instance, true));
}

/** What a release script's outcome means to the handle. */
function actResultOf(outcome: 'released' | 'expired' | 'taken'): ActResult {
  return outcome === 'released' ? { outcome: 'done' } : { outcome };
}

function releaseGroup(conn: RedisConnection, group: PendingRelease[]): void {
  const alone = (p: PendingRelease) =>
    runOwned(conn, p.keys, p.owner, { kind: 'release' }, p.actor).then(p.resolve, p.reject);
  if (group.length === 1) {
    // Alone, one script (GET, compare, DEL, SPUBLISH) instead of WATCH + GET, then MULTI/EXEC.
    const p = group[0] as PendingRelease;
    releaseIfOwner(conn, p.keys, p.owner, p.actor.instance).then(
      (outcome) => p.resolve(actResultOf(outcome)),
      p.reject,
    );
    return;
  }
  const locks = group.map((p) => ({ keys: p.keys, owner: p.owner, instance: p.actor.instance }));
  releaseMany(conn, locks).then(
    (outcomes) => {
      if (outcomes === null) {
        for (const p of group) alone(p);
        return;
      }
      group.forEach((p, i) => {
        const outcome = outcomes[i] as Exclude<Ownership, 'owned'> | 'done';
        p.resolve(outcome === 'done' ? { outcome: 'done' } : { outcome });
      });
    },
    (err: unknown) => {
      for (const p of group) p.reject(err);
    },
  );
}
