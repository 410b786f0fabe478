import type { RedisConnection } from '@redis-patterns/connection';
import type { Act, LockKeys } from './commands/index.js';
import { type LockLossReason, LockLostError } from './errors.js';
import type { GiveBacks } from './give-backs.js';
import { checkMs } from './options.js';
import { countLost, recordHold, tracedRelease } from './otel.js';
import {
  type Acting,
  type ActResult,
  type ArmedWatch,
  releaseFairOwned,
  releaseOwned,
  runOwned,
} from './session.js';

/** A held lock. Release it (or let `await using` release it) when the protected work is done. */
export interface LockHandle extends AsyncDisposable {
  /** The lock name passed to `acquire`. */
  readonly name: string;
  /**
   * Strictly greater than the token of every earlier grant of this name (not consecutive). Pass it
   * to the resource you protect and have it refuse writes with a token lower than one it has seen.
   */
  readonly fencingToken: number;
  /** Epoch ms before which the lock is certainly still ours in Redis (a conservative local estimate). */
  readonly expiresAt: number;
  /** Aborts, with a {@link LockLostError} as its reason, once this process knows the lock is lost. */
  readonly signal: AbortSignal;
  /** Sets the TTL to `ttlMs` from now; rejects with {@link LockLostError} if the lock is no longer ours. */
  extend(ttlMs?: number): Promise<void>;
  /**
   * Deletes the lock if it is still ours and wakes the waiters (or hands it straight to the next
   * waiter of this process). Rejects with {@link LockLostError} if it was lost: another owner's lock
   * is never deleted. Rejects with `ConnectionError` or `TimeoutError` if Redis did not confirm the
   * release; the lock is then released in the background as soon as Redis answers (compare-and-delete
   * by owner id), or expires by its TTL. Calling it again returns the same outcome.
   */
  release(): Promise<void>;
}

/** A local waiter the lock can be handed to on release, prepared by the lock. */
export interface Successor {
  owner: string;
  ttlMs: number;
  /** This process's turn is over: hand over only if no other process waits, else yield to them. */
  turnOver: boolean;
  /** The hand-over EXEC succeeded: give the waiter its handle. */
  accept(fencingToken: number, session: ArmedWatch | undefined): void;
  /**
   * The hand-over did not happen (or may have: `uncertain`); let the waiters contend again.
   * `yielded`: the lock was released for other processes instead; let them go first.
   */
  abandon(uncertain: boolean, yielded: boolean): void;
}

/** What a handle needs from the lock that granted it. */
export interface Grant {
  conn: RedisConnection;
  name: string;
  keys: LockKeys;
  owner: string;
  fencingToken: number;
  /** `Date.now()` and `performance.now()` just before the granting command was sent. */
  sentAtMs: number;
  sentAtMono: number;
  grantedTtlMs: number;
  ttlMs: number;
  autoExtend: boolean;
  /** A WATCH already armed for this owner by the hand-over that granted it. */
  session: ArmedWatch | undefined;
  /** The lock instance acting (its id, durability, and how long it marks itself as waiting). */
  actor: Acting;
  /** Takes back a grant whose release Redis did not confirm. */
  giveBacks: GiveBacks;
  /** The next local waiter to hand the lock to on release, if any may have it. */
  successor: () => Successor | undefined;
  /** A `fair` lock's grant: its release wakes only the caller whose turn it is. */
  fair: boolean;
}

type State = 'held' | 'releasing' | 'released';

/** One grant: its extensions, its loss signal and its release. */
export class Holder implements LockHandle {
  readonly name: string;
  readonly fencingToken: number;
  readonly #grant: Grant;
  #expiresAt: number;
  /** `performance.now()` value of `expiresAt`: immune to wall-clock jumps. */
  #deadline: number;
  #state: State = 'held';
  #session: ArmedWatch | undefined;
  #controller: AbortController | undefined;
  #lost: LockLostError | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Extensions and the release run one at a time: our own PEXPIRE would abort our own WATCHed release. */
  #queue: Promise<unknown> = Promise.resolve();
  #release: Promise<void> | undefined;
  /** `performance.now()` at the grant, for the hold duration metric. */
  readonly #grantedAt = performance.now();

  constructor(grant: Grant) {
    this.#grant = grant;
    this.name = grant.name;
    this.fencingToken = grant.fencingToken;
    this.#session = grant.session;
    this.#expiresAt = grant.sentAtMs + grant.grantedTtlMs;
    this.#deadline = grant.sentAtMono + grant.grantedTtlMs;
    if (grant.autoExtend) this.#arm(grant.ttlMs / 3);
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  get signal(): AbortSignal {
    // Created on first use: most short critical sections never read it.
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#lost !== undefined) this.#controller.abort(this.#lost);
      else if (!this.#grant.autoExtend && this.#state === 'held') this.#arm(this.#remaining());
    }
    return this.#controller.signal;
  }

  async extend(ttlMs?: number): Promise<void> {
    const ms = checkMs('ttlMs', ttlMs) ?? this.#grant.ttlMs;
    if (this.#state !== 'held') throw this.#error('released');
    if (this.#lost !== undefined && this.#lost.reason !== 'unconfirmed') throw this.#lost;
    return this.#serial(() => this.#extend(ms));
  }

  release(): Promise<void> {
    this.#release ??= tracedRelease(this.name, () => this.#doRelease());
    return this.#release;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  async #doRelease(): Promise<void> {
    this.#state = 'releasing';
    clearTimeout(this.#timer);
    try {
      // A loss Redis already confirmed needs no round trip; an unconfirmed one may still be ours.
      if (this.#lost !== undefined && this.#lost.reason !== 'unconfirmed') throw this.#lost;
      await this.#serial(() => this.#releaseOrHandOver());
      this.#state = 'released';
      recordHold(this.#grantedAt);
    } catch (err) {
      this.#state = 'released';
      recordHold(this.#grantedAt);
      if (!(err instanceof LockLostError)) {
        // Redis did not answer: take the lock back as soon as it does, not after the whole TTL.
        const { keys, owner, ttlMs } = this.#grant;
        this.#grant.giveBacks.add(keys, owner, performance.now() + ttlMs);
      }
      throw err;
    }
  }

  async #releaseOrHandOver(): Promise<void> {
    const successor = this.#grant.successor();
    const next: Act = successor
      ? {
          kind: 'transfer',
          owner: successor.owner,
          ttlMs: successor.ttlMs,
          yieldIfOthers: successor.turnOver,
        }
      : { kind: 'release' };
    let result: ActResult;
    try {
      result = await this.#act(next);
    } catch (err) {
      successor?.abandon(true, false);
      throw err;
    }
    if (result.outcome === 'done') {
      if (successor && result.yielded) successor.abandon(false, true);
      else if (successor) successor.accept(result.fencingToken as number, result.session);
      else result.session?.end();
      return;
    }
    successor?.abandon(false, false);
    throw this.#lose(result.outcome);
  }

  async #extend(ttlMs: number): Promise<void> {
    if (this.#state !== 'held') throw this.#error('released');
    const sentAtMs = Date.now();
    const sentAtMono = performance.now();
    // While the lock is ours, wait no longer than our deadline: after it the gap is not exclusive, so
    // the watchdog must report the loss then, not after a long command timeout. Past the deadline
    // (the event loop was blocked), ask with the normal bound: Redis says whether it is still ours.
    const remaining = Math.ceil(this.#remaining());
    const extension = this.#act({ kind: 'extend', ttlMs });
    const { conn } = this.#grant;
    const result = await (remaining > 0 ? conn.bounded(extension, remaining, 'lock extend') : extension);
    if (result.outcome !== 'done') throw this.#lose(result.outcome);
    this.#session = result.session;
    this.#expiresAt = sentAtMs + ttlMs;
    this.#deadline = sentAtMono + ttlMs;
    if (!this.#grant.autoExtend && this.#controller !== undefined) this.#arm(this.#remaining());
  }

  /** Acts on the armed WATCH if one is waiting for us, else checks ownership first. */
  #act(next: Act): Promise<ActResult> {
    const session = this.#session;
    this.#session = undefined;
    const { conn, keys, owner, actor } = this.#grant;
    if (next.kind === 'release' && this.#grant.fair) {
      session?.end();
      return releaseFairOwned(conn, keys, owner, actor);
    }
    // An armed WATCH that idled out acts like none: a release is then one script.
    const armed = session?.act(next);
    if (armed !== undefined) return armed;
    if (next.kind === 'release') return releaseOwned(conn, keys, owner, actor);
    return runOwned(conn, keys, owner, next, actor);
  }

  /** The watchdog: extend every ttl/3; a transient failure retries until the deadline, then the lock is lost. */
  #arm(delayMs: number): void {
    clearTimeout(this.#timer);
    const tick = this.#grant.autoExtend ? () => this.#autoExtend() : () => this.#expireIfDue();
    this.#timer = setTimeout(tick, Math.max(0, delayMs));
    this.#timer.unref();
  }

  #autoExtend(): void {
    if (this.#state !== 'held') return;
    this.#serial(() => this.#extend(this.#grant.ttlMs)).then(
      () => {
        if (this.#state === 'held') this.#arm(this.#grant.ttlMs / 3);
      },
      (err: unknown) => {
        if (this.#state !== 'held' || err instanceof LockLostError) return;
        const remaining = this.#remaining();
        if (remaining <= 0) this.#lose('unconfirmed', err);
        else this.#arm(Math.min(this.#grant.ttlMs / 3, Math.max(10, remaining / 4)));
      },
    );
  }

  #expireIfDue(): void {
    if (this.#state !== 'held') return;
    const remaining = this.#remaining();
    if (remaining > 0) this.#arm(remaining);
    else this.#lose('expired');
  }

  #remaining(): number {
    return this.#deadline - performance.now();
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => {});
    return run;
  }

  #error(reason: LockLossReason, cause?: unknown): LockLostError {
    const { name, keys, fencingToken } = this.#grant;
    return new LockLostError(name, keys.lock, fencingToken, reason, cause === undefined ? {} : { cause });
  }

  /** Records the loss once, stops the watchdog and tells the holder through the signal. */
  #lose(reason: LockLossReason, cause?: unknown): LockLostError {
    if (this.#lost === undefined || this.#lost.reason === 'unconfirmed') {
      if (this.#lost === undefined) countLost(reason);
      this.#lost = this.#error(reason, cause);
      clearTimeout(this.#timer);
      this.#session?.end();
      this.#session = undefined;
      this.#controller?.abort(this.#lost);
    }
    return this.#lost;
  }
}
