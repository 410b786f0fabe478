import type { RedisConnection, TickBatcher } from '@redis-patterns/connection';
import {
  type Act,
  type ActOutcome,
  act,
  batcherOf,
  type LockKeys,
  type Ownership,
  releaseMany,
  watchOwner,
} from './commands.js';

/**
 * How long a WATCH left armed for a holder waits for that holder's next act (release, extend,
 * hand-over) before its pooled connection goes back to the pool. Contended critical sections are
 * short; a longer hold simply pays the separate WATCH + GET round trip when it releases.
 */
const ARMED_IDLE_MS = 100;

/** The result of an act; `session` is the WATCH left armed for the owner after extend or hand-over. */
export type ActResult =
  | { outcome: 'done'; fencingToken?: number; session?: ArmedWatch }
  | { outcome: Exclude<Ownership, 'owned'> };

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
 * Checks that `owner` holds the lock (WATCH + GET) and runs `first` (see `act` in commands.ts). After an
 * extend or a hand-over the WATCH is re-armed in the same write, and the connection stays leased for
 * the owner's next act until it idles: a chain of hand-overs between local waiters costs one round
 * trip each. An EXEC aborted by WATCH is checked again once, to report precisely what happened.
 */
export function runOwned(
  conn: RedisConnection,
  keys: LockKeys,
  owner: string,
  first: Act,
): Promise<ActResult> {
  return new Promise<ActResult>((resolve, reject) => {
    let pending: Request & { owner: string } = { owner, next: first, resolve, reject };
    let armed = false;
    conn
      .isolated(keys.lock, async (client) => {
        for (let checks = 0; ; ) {
          if (!armed) {
            const ownership = await watchOwner(conn, client, keys, pending.owner);
            checks++;
            if (ownership !== 'owned') return pending.resolve({ outcome: ownership });
          }
          const outcome: ActOutcome = await act(conn, client, keys, pending.owner, pending.next);
          if (outcome.outcome === 'conflict') {
            if (checks >= 2) return pending.resolve({ outcome: 'taken' });
            armed = false;
            continue;
          }
          if (outcome.outcome !== 'done') return pending.resolve({ outcome: outcome.outcome });
          const token = outcome.fencingToken === undefined ? {} : { fencingToken: outcome.fencingToken };
          if (!outcome.rearmed) {
            pending.resolve({ outcome: 'done', ...token });
            // The act itself succeeded; a failed re-arm only makes the pool drop this connection.
            if (outcome.rearmError !== undefined) throw outcome.rearmError;
            return;
          }
          const session = new ArmedWatch();
          const request = session.nextRequest(ARMED_IDLE_MS);
          pending.resolve({ outcome: 'done', ...token, session });
          const nextOwner = pending.next.kind === 'transfer' ? pending.next.owner : pending.owner;
          const next = await request;
          if (next === undefined) return;
          pending = { ...next, owner: nextOwner };
          armed = true;
          checks = 0;
        }
      })
      .catch((err: unknown) => pending.reject(err));
  });
}

interface PendingRelease {
  keys: LockKeys;
  owner: string;
  resolve: (result: ActResult) => void;
  reject: (err: unknown) => void;
}

/** The releases of each connection, gathered per tick. */
const releaseBatchers = new WeakMap<RedisConnection, TickBatcher<PendingRelease>>();

/**
 * Releases `owner`'s lock like `runOwned(..., { kind: 'release' })`, but releases asked for in the
 * same tick on one connection share their WATCH and EXEC (one batch per hash slot): at 50 holders
 * releasing at once that is two round trips on one pooled connection instead of two on each of 50.
 * If the shared EXEC is aborted (some lock in the batch changed after the check), each release is
 * retried on its own, so one contended lock never fails the others.
 */
export function releaseOwned(conn: RedisConnection, keys: LockKeys, owner: string): Promise<ActResult> {
  const batcher = batcherOf(releaseBatchers, conn, (items) => {
    for (const group of conn.groupBySlot(items, (p) => p.keys.lock)) releaseGroup(conn, group);
  });
  return new Promise((resolve, reject) => batcher.add({ keys, owner, resolve, reject }));
}

function releaseGroup(conn: RedisConnection, group: PendingRelease[]): void {
  const alone = (p: PendingRelease) =>
    runOwned(conn, p.keys, p.owner, { kind: 'release' }).then(p.resolve, p.reject);
  if (group.length === 1) {
    alone(group[0] as PendingRelease);
    return;
  }
  conn
    .isolated((group[0] as PendingRelease).keys.lock, (client) => releaseMany(conn, client, group))
    .then(
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
