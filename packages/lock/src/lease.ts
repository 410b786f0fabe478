import type { RedisConnection } from '@redis-patterns/connection';
import { type LockLossReason, LockLostError } from './errors.js';
import { checkMs } from './options.js';
import { countLost, type GrantKind, recordHold, tracedRelease } from './otel.js';

/**
 * A held permit of a semaphore or a read/write lock. Release it (or let `await using` release it)
 * when the protected work is done.
 */
export interface LeaseHandle extends AsyncDisposable {
  /** The name passed to `acquire`. */
  readonly name: string;
  /**
   * Strictly greater than the token of every earlier grant of this name (not consecutive), for
   * every kind of grant of the name. Pass it to the resource you protect.
   */
  readonly fencingToken: number;
  /** Epoch ms before which the grant is certainly still ours in Redis (a conservative local estimate). */
  readonly expiresAt: number;
  /** Aborts, with a {@link LockLostError} as its reason, once this process knows the grant is lost. */
  readonly signal: AbortSignal;
  /** Sets the TTL to `ttlMs` from now; rejects with {@link LockLostError} if the grant is no longer ours. */
  extend(ttlMs?: number): Promise<void>;
  /**
   * Gives the grant back and wakes the waiters. Rejects with {@link LockLostError} if it was lost
   * (its TTL ran out), with `ConnectionError` or `TimeoutError` if Redis did not confirm: it is then
   * given back in the background as soon as Redis answers, or expires by its TTL. Idempotent.
   */
  release(): Promise<void>;
}

/** The Redis side of one grant, as a lease sees it. */
export interface LeaseOps {
  /** Extends the grant; false if Redis no longer has it. `timeoutMs` bounds the call. */
  extend(ttlMs: number, timeoutMs: number | undefined): Promise<boolean>;
  /** Releases the grant; false if Redis no longer had it live. */
  release(): Promise<boolean>;
  /** Takes the grant back in the background after a release Redis did not confirm, retrying until `untilMono`. */
  giveBack(untilMono: number): void;
}

/** What a lease needs from the semaphore or lock that granted it. */
export interface LeaseGrant {
  conn: RedisConnection;
  /** What this grant is, for its telemetry: a semaphore permit, a read or a write lock. */
  kind: Exclude<GrantKind, 'lock'>;
  name: string;
  /** The key the grant lives in (for error messages). */
  key: string;
  fencingToken: number;
  /** `Date.now()` and `performance.now()` just before the granting command was sent. */
  sentAtMs: number;
  sentAtMono: number;
  ttlMs: number;
  autoExtend: boolean;
  ops: LeaseOps;
}

/**
 * One grant held: its extensions (a watchdog every `ttlMs / 3`, as for the mutex), its loss
 * signal and its release. A failed extension is retried until the local deadline, then the grant
 * is lost (`unconfirmed`); without auto-extension the signal aborts at the local TTL.
 */
export class Lease implements LeaseHandle {
  readonly name: string;
  readonly fencingToken: number;
  readonly #grant: LeaseGrant;
  #expiresAt: number;
  #deadline: number;
  /** The TTL last set on the grant (at the grant, or by the latest extension). */
  #ttlMs: number;
  #state: 'held' | 'releasing' | 'released' = 'held';
  #controller: AbortController | undefined;
  #lost: LockLostError | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Extensions and the release run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #release: Promise<void> | undefined;
  /** `performance.now()` at the grant, for the hold duration metric. */
  readonly #grantedAt = performance.now();

  constructor(grant: LeaseGrant) {
    this.#grant = grant;
    this.name = grant.name;
    this.fencingToken = grant.fencingToken;
    this.#expiresAt = grant.sentAtMs + grant.ttlMs;
    this.#deadline = grant.sentAtMono + grant.ttlMs;
    this.#ttlMs = grant.ttlMs;
    // A slow grant reply leaves less of the TTL: extend sooner than ttl/3 then.
    if (grant.autoExtend) this.#arm(Math.min(grant.ttlMs / 3, this.#remaining() / 2));
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  get signal(): AbortSignal {
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
    this.#release ??= tracedRelease(this.name, () => this.#doRelease(), this.#grant.kind);
    return this.#release;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  async #doRelease(): Promise<void> {
    this.#state = 'releasing';
    clearTimeout(this.#timer);
    try {
      if (this.#lost !== undefined && this.#lost.reason !== 'unconfirmed') throw this.#lost;
      const released = await this.#serial(() => this.#grant.ops.release());
      this.#state = 'released';
      recordHold(this.#grantedAt, this.#grant.kind);
      if (!released) throw this.#lose('expired');
    } catch (err) {
      if (this.#state !== 'released') recordHold(this.#grantedAt, this.#grant.kind);
      this.#state = 'released';
      // The grant may live for the last TTL set from any moment up to now: retry that long.
      if (!(err instanceof LockLostError)) this.#grant.ops.giveBack(performance.now() + this.#ttlMs);
      throw err;
    }
  }

  async #extend(ttlMs: number): Promise<void> {
    if (this.#state !== 'held') throw this.#error('released');
    const sentAtMs = Date.now();
    const sentAtMono = performance.now();
    // While the grant is ours, wait no longer than its deadline: the loss must be reported then.
    const remaining = Math.ceil(this.#remaining());
    const extended = await this.#grant.ops.extend(ttlMs, remaining > 0 ? remaining : undefined);
    if (!extended) throw this.#lose('expired');
    this.#expiresAt = sentAtMs + ttlMs;
    this.#deadline = sentAtMono + ttlMs;
    this.#ttlMs = ttlMs;
    if (!this.#grant.autoExtend && this.#controller !== undefined) this.#arm(this.#remaining());
  }

  #arm(delayMs: number): void {
    clearTimeout(this.#timer);
    const tick = this.#grant.autoExtend ? () => this.#autoExtend() : () => this.#expireIfDue();
    this.#timer = setTimeout(tick, Math.max(0, delayMs));
    this.#timer.unref();
  }

  #autoExtend(): void {
    if (this.#state !== 'held') return;
    const { ttlMs } = this.#grant;
    this.#serial(() => this.#extend(ttlMs)).then(
      () => {
        if (this.#state === 'held') this.#arm(ttlMs / 3);
      },
      (err: unknown) => {
        if (this.#state !== 'held' || err instanceof LockLostError) return;
        const remaining = this.#remaining();
        if (remaining <= 0) this.#lose('unconfirmed', err);
        else this.#arm(Math.min(ttlMs / 3, Math.max(10, remaining / 4)));
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
    const { name, key, fencingToken } = this.#grant;
    return new LockLostError(name, key, fencingToken, reason, cause === undefined ? {} : { cause });
  }

  /** Records the loss once, stops the watchdog and tells the holder through the signal. */
  #lose(reason: LockLossReason, cause?: unknown): LockLostError {
    if (this.#lost === undefined || this.#lost.reason === 'unconfirmed') {
      if (this.#lost === undefined) countLost(reason, this.#grant.kind);
      this.#lost = this.#error(reason, cause);
      clearTimeout(this.#timer);
      this.#controller?.abort(this.#lost);
    }
    return this.#lost;
  }
}
