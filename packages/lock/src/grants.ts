import { randomUUID } from 'node:crypto';
import { ClosedError, ConnectionError, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { attemptGrant, type LockKeys } from './commands.js';
import { type Grant, Holder, type LockHandle, type Successor } from './handle.js';
import type { ResolvedOptions } from './options.js';
import { type ArmedWatch, runOwned } from './session.js';
import { createWaiter, type Waiter, WaitQueue } from './waiting.js';
import { ReleaseWakeups } from './wakeups.js';

/**
 * How many times in a row a holder may hand the lock straight to a waiter of its own process before
 * it must release it for real (so that waiters of other processes get a turn).
 */
const LOCAL_HAND_OVERS = 16;

/** Who takes a grant: the options of the `acquire()` it answers. */
interface Taker {
  ttlMs: number;
  autoExtend: boolean;
}

/** The result of one attempt: a grant's fields, or how long the holder's TTL still runs. */
type AttemptResult = { fields: Fields; heldForMs?: undefined } | { fields?: undefined; heldForMs?: number };

type Fields = Pick<
  Grant,
  'owner' | 'fencingToken' | 'sentAtMs' | 'sentAtMono' | 'grantedTtlMs' | 'session'
> & {
  streak: number;
};

/** Grants of one lock instance: attempts, the local wait queues and the hand-overs between them. */
export class Grants {
  readonly #conn: RedisConnection;
  readonly #settings: ResolvedOptions;
  readonly #wakeups: ReleaseWakeups;
  readonly #queues = new Map<string, WaitQueue<LockHandle>>();
  /** Owner ids: unique per instance (a random UUID) and per grant (a sequence). */
  readonly #instance = randomUUID();
  #sequence = 0;
  #closed = false;

  constructor(conn: RedisConnection, settings: ResolvedOptions) {
    this.#conn = conn;
    this.#settings = settings;
    this.#wakeups = new ReleaseWakeups(conn);
  }

  /** One attempt; a handle if it was granted. */
  async tryOnce(name: string, keys: LockKeys, taker: Taker): Promise<Holder | undefined> {
    const { fields } = await this.#attempt(keys, taker.ttlMs, false);
    return fields && this.#holder(name, keys, taker, fields);
  }

  /** True while `acquire()` calls of this process wait for `name`: newcomers queue behind them. */
  isQueued(name: string): boolean {
    return this.#queues.has(name);
  }

  /** Waits in this process's queue for `name` until granted, aborted, timed out or closed. */
  wait(name: string, keys: LockKeys, opts: Taker & { timeoutMs: number; signal: AbortSignal | undefined }) {
    let queue = this.#queues.get(name);
    const fresh = queue === undefined;
    queue ??= new WaitQueue<LockHandle>();
    const { waiter, promise } = createWaiter(queue, name, opts);
    queue.waiters.push(waiter);
    if (fresh) {
      this.#queues.set(name, queue);
      this.#contend(name, keys, queue).catch((err: unknown) => {
        for (const w of [...queue.waiters]) w.fail(err);
      });
    }
    return promise;
  }

  /** Best effort: deletes a grant nobody will use (it would otherwise block everyone for its TTL). */
  giveBack(keys: LockKeys, owner: string): void {
    runOwned(this.#conn, keys, owner, { kind: 'release' }).catch(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const queue of this.#queues.values()) {
      for (const waiter of [...queue.waiters]) waiter.fail(closedWhileWaiting());
    }
    await this.#wakeups.close();
  }

  async #attempt(keys: LockKeys, ttlMs: number, askHeldFor: boolean): Promise<AttemptResult> {
    const owner = `${this.#instance}:${++this.#sequence}`;
    const sentAtMs = Date.now();
    const sentAtMono = performance.now();
    try {
      const result = await attemptGrant(this.#conn, keys, owner, ttlMs, askHeldFor);
      if (!result.granted) return result.heldForMs === undefined ? {} : { heldForMs: result.heldForMs };
      const { fencingToken } = result;
      const fields: Fields = {
        owner,
        fencingToken,
        sentAtMs,
        sentAtMono,
        grantedTtlMs: ttlMs,
        session: undefined,
        streak: 0,
      };
      return { fields };
    } catch (err) {
      // No reply: the MULTI may still have run and granted the lock to nobody. Hand it back if so
      // (otherwise it frees itself after its TTL).
      if (err instanceof TimeoutError || err instanceof ConnectionError) this.giveBack(keys, owner);
      throw err;
    }
  }

  #holder(name: string, keys: LockKeys, taker: Taker, fields: Fields): Holder {
    return new Holder({
      conn: this.#conn,
      name,
      keys,
      ...fields,
      ttlMs: taker.ttlMs,
      autoExtend: taker.autoExtend,
      successor: () => this.#successor(name, keys, fields.streak),
    });
  }

  /**
   * Gives a grant won for the queue to its oldest waiter (the one it was won for may have left while
   * the command flew); with nobody left, hands it straight back. False if nobody took it.
   */
  #deliver(name: string, keys: LockKeys, queue: WaitQueue<LockHandle>, fields: Fields): boolean {
    const taker = queue.waiters[0];
    if (taker === undefined) {
      fields.session?.end();
      this.giveBack(keys, fields.owner);
      return false;
    }
    taker.grant(this.#holder(name, keys, taker, fields));
    return true;
  }

  /**
   * On release, a holder hands the lock straight to the oldest waiter of this process (SET new owner
   * + INCR fence in the release's own EXEC) instead of deleting it and letting every waiter race for
   * it: no wake-up message and no acquisition round trip on the critical path.
   */
  #successor(name: string, keys: LockKeys, streak: number): Successor | undefined {
    const queue = this.#queues.get(name);
    const waiter = queue?.waiters[0];
    if (queue === undefined || waiter === undefined || streak >= LOCAL_HAND_OVERS || this.#closed) return;
    const owner = `${this.#instance}:${++this.#sequence}`;
    const sentAtMs = Date.now();
    const sentAtMono = performance.now();
    const grantedTtlMs = waiter.ttlMs;
    return {
      owner,
      ttlMs: grantedTtlMs,
      accept: (fencingToken: number, session: ArmedWatch | undefined) => {
        const fields = {
          owner,
          fencingToken,
          sentAtMs,
          sentAtMono,
          grantedTtlMs,
          session,
          streak: streak + 1,
        };
        this.#deliver(name, keys, queue, fields);
      },
      abandon: (uncertain: boolean) => {
        if (uncertain) this.giveBack(keys, owner);
        queue.released(); // the lock may be free now: let the queue's contender look at once
      },
    };
  }

  /**
   * Contends for `name` on behalf of the oldest local waiter until the queue is empty. Subscribes to
   * the release channel first, then attempts: a release after a failed attempt bumps the generation
   * (its message arrives after we subscribed), so no release between "attempt failed" and "sleep" is
   * missed; a lost message costs at most one poll.
   */
  async #contend(name: string, keys: LockKeys, queue: WaitQueue<LockHandle>): Promise<void> {
    await this.#wakeups.subscribe(keys.channel, queue.released);
    let sleepFirst = false;
    try {
      while (queue.waiters.length > 0 && !this.#closed) {
        if (sleepFirst) {
          sleepFirst = false;
          await queue.sleep(this.#pollDelay(undefined));
          continue;
        }
        const head = queue.waiters[0] as Waiter<LockHandle>;
        const seen = queue.generation;
        let result: AttemptResult;
        try {
          result = await this.#attempt(keys, head.ttlMs, true);
        } catch (err) {
          head.fail(err); // Redis failed: say so now rather than hide the outage until the deadline
          continue;
        }
        if (result.fields !== undefined) {
          if (!this.#deliver(name, keys, queue, result.fields)) break;
          sleepFirst = true; // ours now: the next waiter gets it handed over, or a release message
          continue;
        }
        if (queue.generation !== seen) continue;
        await queue.sleep(this.#pollDelay(result.heldForMs));
      }
    } finally {
      // Synchronous with the loop's last emptiness check: an acquire() cannot slip in between.
      if (this.#queues.get(name) === queue) this.#queues.delete(name);
      this.#wakeups.unsubscribe(keys.channel, queue.released);
      for (const waiter of [...queue.waiters]) waiter.fail(closedWhileWaiting());
    }
  }

  /** Until the holder's TTL runs out (if sooner) or one poll interval, plus jitter. */
  #pollDelay(heldForMs: number | undefined): number {
    const { delayMs, jitterMs } = this.#settings;
    const base = heldForMs !== undefined && heldForMs >= 0 ? Math.min(heldForMs, delayMs) : delayMs;
    return base + Math.random() * jitterMs;
  }
}

function closedWhileWaiting(): ClosedError {
  return new ClosedError('The lock was closed while acquire() waited; create a new one with createLock().');
}
