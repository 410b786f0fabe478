import { randomUUID } from 'node:crypto';
import { ClosedError, ConnectionError, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { type Attempt, attemptDurably, attemptGrant, type LockKeys, unmark } from './commands/index.js';
import { GiveBacks } from './give-backs.js';
import { type Grant, Holder, type LockHandle, type Successor } from './handle.js';
import type { ResolvedOptions } from './options.js';
import type { Acting, ArmedWatch } from './session.js';
import { createWaiter, type Waiter, type WaitOptions, WaitQueue } from './waiting.js';
import { ReleaseWakeups } from './wakeups.js';

/**
 * A process's turn: how many times in a row a holder may hand the lock straight to a waiter of its
 * own process. After that it hands over only if no other process waits; if one does, it releases
 * the lock and its process waits until another process has had a turn.
 */
const LOCAL_HAND_OVERS = 16;

/** Who takes a grant: the options of the `acquire()` it answers. */
interface Taker {
  ttlMs: number;
  autoExtend: boolean;
}

type Fields = Pick<
  Grant,
  'owner' | 'fencingToken' | 'sentAtMs' | 'sentAtMono' | 'grantedTtlMs' | 'session'
> & {
  streak: number;
};

/** The result of one attempt: a grant's fields, or how long the holder's TTL still runs. */
type AttemptResult = { fields: Fields; heldForMs?: undefined } | { fields?: undefined; heldForMs: number };

/** Grants of one lock instance: attempts, the local wait queues and the hand-overs between them. */
export class Grants {
  readonly #conn: RedisConnection;
  readonly #settings: ResolvedOptions;
  readonly #wakeups: ReleaseWakeups;
  readonly #queues = new Map<string, WaitQueue<LockHandle>>();
  /** Owner ids: unique per instance (a random UUID) and per grant (a sequence). */
  readonly #instance = randomUUID();
  readonly #actor: Acting;
  readonly giveBacks: GiveBacks;
  readonly #closers = new Set<() => void>();
  #sequence = 0;
  #closed = false;

  constructor(conn: RedisConnection, settings: ResolvedOptions) {
    this.#conn = conn;
    this.#settings = settings;
    this.#wakeups = new ReleaseWakeups(conn);
    this.#actor = { instance: this.#instance, durability: settings.durability, markMs: settings.markMs };
    this.giveBacks = new GiveBacks(conn, this.#instance);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Calls `fn` when the lock closes; returns the function that stops that. */
  onClose(fn: () => void): () => void {
    this.#closers.add(fn);
    return () => this.#closers.delete(fn);
  }

  get wakeups(): ReleaseWakeups {
    return this.#wakeups;
  }

  get actor(): Acting {
    return this.#actor;
  }

  /** A fresh owner id of this instance. */
  nextOwner(): string {
    return `${this.#instance}:${++this.#sequence}`;
  }

  /** One attempt, bounded by `timeoutMs` (undefined: the connection's bound); a handle if granted. */
  async tryOnce(
    name: string,
    keys: LockKeys,
    taker: Taker,
    timeoutMs: number | undefined,
  ): Promise<Holder | undefined> {
    const { fields } = await this.#attempt(keys, taker.ttlMs, false, timeoutMs);
    return fields && this.holder(name, keys, taker, fields, false);
  }

  /** True while `acquire()` calls of this process wait for `name`: newcomers queue behind them. */
  isQueued(name: string): boolean {
    return this.#queues.has(name);
  }

  /** Waits in this process's queue for `name` until granted, aborted, timed out or closed. */
  wait(name: string, keys: LockKeys, opts: WaitOptions): Promise<LockHandle> {
    let queue = this.#queues.get(name);
    const fresh = queue === undefined;
    queue ??= new WaitQueue<LockHandle>(this.#instance);
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

  async close(): Promise<void> {
    this.#closed = true;
    for (const queue of this.#queues.values()) {
      for (const waiter of [...queue.waiters]) waiter.fail(closedWhileWaiting());
    }
    for (const fn of this.#closers) fn();
    await this.#wakeups.close();
  }

  /** A handle for a grant; `fair` grants are never handed over locally. */
  holder(name: string, keys: LockKeys, taker: Taker, fields: Fields, fair: boolean): Holder {
    return new Holder({
      conn: this.#conn,
      name,
      keys,
      ...fields,
      ttlMs: taker.ttlMs,
      autoExtend: taker.autoExtend,
      actor: this.#actor,
      giveBacks: this.giveBacks,
      successor: () => (fair ? undefined : this.#successor(name, keys, fields.streak)),
      fair,
    });
  }

  async #attempt(keys: LockKeys, ttlMs: number, more: boolean, timeoutMs?: number): Promise<AttemptResult> {
    const owner = this.nextOwner();
    const sentAtMs = Date.now();
    const sentAtMono = performance.now();
    const request = {
      keys,
      owner,
      ttlMs,
      instance: this.#instance,
      markMs: this.#settings.markMs,
      more,
      timeoutMs,
    };
    const { durability } = this.#settings;
    let result: Attempt;
    try {
      result = await (durability
        ? attemptDurably(this.#conn, request, durability)
        : attemptGrant(this.#conn, request));
    } catch (err) {
      // No reply: the attempt may still have granted the lock to nobody. Take it back as soon as
      // Redis answers (otherwise it would block everyone for its TTL).
      if (err instanceof TimeoutError || err instanceof ConnectionError)
        this.giveBacks.add(keys, owner, sentAtMono + ttlMs);
      throw err;
    }
    if (!result.granted) return { heldForMs: result.heldForMs };
    const { fencingToken } = result;
    return {
      fields: {
        owner,
        fencingToken,
        sentAtMs,
        sentAtMono,
        grantedTtlMs: ttlMs,
        session: undefined,
        streak: 0,
      },
    };
  }

  /**
   * Gives a grant won for the queue to its oldest waiter (the one it was won for may have left while
   * the command flew); with nobody left, hands it straight back. False if nobody took it.
   */
  #deliver(name: string, keys: LockKeys, queue: WaitQueue<LockHandle>, fields: Fields): boolean {
    const taker = queue.waiters[0];
    if (taker === undefined) {
      fields.session?.end();
      this.giveBacks.add(keys, fields.owner, fields.sentAtMono + fields.grantedTtlMs);
      return false;
    }
    taker.grant(this.holder(name, keys, taker, fields, false));
    return true;
  }

  /**
   * On release, a holder hands the lock straight to the oldest waiter of this process (SET new owner
   * + INCR fence in the release's own EXEC) instead of deleting it and letting every waiter race for
   * it: no wake-up message and no acquisition round trip on the critical path. For a turn of
   * LOCAL_HAND_OVERS grants; after that only while no other process waits (session.ts checks), else
   * the lock is released to them and this process yields.
   */
  #successor(name: string, keys: LockKeys, streak: number): Successor | undefined {
    const queue = this.#queues.get(name);
    const waiter = queue?.waiters[0];
    if (queue === undefined || waiter === undefined || this.#closed) return;
    if (this.#settings.durability !== undefined) return;
    const owner = this.nextOwner();
    const sentAtMs = Date.now();
    const sentAtMono = performance.now();
    const grantedTtlMs = waiter.ttlMs;
    const turnOver = streak + 1 >= LOCAL_HAND_OVERS;
    return {
      owner,
      ttlMs: grantedTtlMs,
      turnOver,
      accept: (fencingToken: number, session: ArmedWatch | undefined) => {
        // Handed over at the end of a turn only because no other process waited: a new turn.
        const next = turnOver ? 0 : streak + 1;
        const fields = { owner, fencingToken, sentAtMs, sentAtMono, grantedTtlMs, session, streak: next };
        this.#deliver(name, keys, queue, fields);
      },
      abandon: (uncertain: boolean, yielded: boolean) => {
        if (uncertain) this.giveBacks.add(keys, owner, sentAtMono + grantedTtlMs);
        if (yielded) queue.yieldUntil = performance.now() + this.#settings.markMs;
        queue.poke(); // the lock may be free now: let the queue's contender look at once
      },
    };
  }

  /**
   * Contends for `name` on behalf of the oldest local waiter until the queue is empty. Subscribes to
   * the release channel first, then attempts: a release after a failed attempt bumps the generation
   * (its message arrives after we subscribed), so no release between "attempt failed" and "sleep" is
   * missed; a lost message costs at most one poll. While the process yields (it just released the
   * lock to other processes), it waits for one of them to release it, or for its mark to expire.
   */
  async #contend(name: string, keys: LockKeys, queue: WaitQueue<LockHandle>): Promise<void> {
    await this.#wakeups.listen(keys.channel, queue.released);
    let sleepFirst = false;
    let marked = false;
    try {
      while (queue.waiters.length > 0 && !this.#closed) {
        const yieldMs = queue.yieldUntil - performance.now();
        if (sleepFirst || yieldMs > 0) {
          sleepFirst = false;
          await queue.sleep(yieldMs > 0 ? yieldMs : this.#pollDelay(undefined));
          continue;
        }
        const head = queue.waiters[0] as Waiter<LockHandle>;
        const seen = queue.generation;
        let result: AttemptResult;
        try {
          result = await this.#attempt(keys, head.ttlMs, queue.waiters.length > 1);
        } catch (err) {
          head.fail(err); // Redis failed: say so now rather than hide the outage until the deadline
          continue;
        }
        marked = result.fields === undefined || queue.waiters.length > 1;
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
      this.#wakeups.unlisten(keys.channel, queue.released);
      for (const waiter of [...queue.waiters]) waiter.fail(closedWhileWaiting());
      // Nobody here waits any more: other processes need not yield to us.
      if (marked) unmark(this.#conn, keys, this.#instance).catch(() => {});
    }
  }

  /** Until the holder's TTL runs out (if sooner) or one poll interval, plus jitter. */
  #pollDelay(heldForMs: number | undefined): number {
    const { delayMs, jitterMs } = this.#settings;
    const base = heldForMs !== undefined && heldForMs >= 0 ? Math.min(heldForMs, delayMs) : delayMs;
    return base + Math.random() * jitterMs;
  }
}

export function closedWhileWaiting(): ClosedError {
  return new ClosedError('The lock was closed while acquire() waited; create a new one with createLock().');
}
