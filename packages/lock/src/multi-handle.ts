import { InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { extendGroup, type MultiGroup, type NameState, releaseGroup } from './commands/index.js';
import { type LockLossReason, LockLostError } from './errors.js';
import type { GiveBacks } from './give-backs.js';
import { checkMs } from './options.js';
import { countLost, recordHold, tracedRelease } from './otel.js';
import { runUnderHold } from './with-lease.js';

/**
 * Several lock names held as one (from `acquireAll()`): every name was free and is ours, each with
 * its own fencing token. Release it (or let `await using` release it) when the work is done.
 */
export interface MultiLockHandle extends AsyncDisposable {
  /** The names held, without duplicates, in the order they were taken (the canonical order). */
  readonly names: readonly string[];
  /**
   * The fencing token of each name: strictly greater than the token of every earlier grant of that
   * name, by `acquire()` or `acquireAll()`. Pass it to the resource the name protects.
   */
  readonly fencingTokens: ReadonlyMap<string, number>;
  /** The fencing token of `name`; throws `InvalidArgumentError` if this hold does not include it. */
  fencingToken(name: string): number;
  /** Epoch ms before which every name is certainly still ours in Redis (a conservative local estimate). */
  readonly expiresAt: number;
  /** Aborts, with the {@link LockLostError} of the first name lost, once this process knows one is lost. */
  readonly signal: AbortSignal;
  /** Sets the TTL of every name to `ttlMs` from now; rejects with {@link LockLostError} if one is no longer ours. */
  extend(ttlMs?: number): Promise<void>;
  /**
   * Deletes every name still ours and wakes their waiters. Rejects with {@link LockLostError} if a
   * name was lost (the others are released all the same; another owner's lock is never deleted),
   * with `ConnectionError` or `TimeoutError` if Redis did not confirm: the names are then released
   * in the background as soon as Redis answers, or expire by their TTL. Idempotent.
   */
  release(): Promise<void>;
}

/** Names of one hash slot held together: their names, owners and tokens, and until when. */
export interface HeldGroup extends MultiGroup {
  names: readonly string[];
  fencingTokens: readonly number[];
  /** Epoch ms and `performance.now()` until which the group is certainly ours. */
  expiresAt: number;
  deadline: number;
}

/** What a hold needs from the lock that grants it. */
export interface MultiGrant {
  conn: RedisConnection;
  instance: string;
  giveBacks: GiveBacks;
  ttlMs: number;
}

/**
 * The groups of one `acquireAll()`, held as one: one watchdog extends every group (one script per
 * group, every `ttlMs / 3`), one signal reports the first loss, one release frees them all. Built
 * group by group while `acquireAll()` still waits for the later groups (which it then extends too:
 * a long wait must not let the first groups expire), and handed to the caller once complete.
 */
export class MultiHold implements MultiLockHandle {
  readonly #grant: MultiGrant;
  readonly #groups: HeldGroup[] = [];
  readonly fencingTokens = new Map<string, number>();
  #autoExtend = true;
  #state: 'held' | 'releasing' | 'released' = 'held';
  #controller: AbortController | undefined;
  #lost: LockLostError | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Extensions and the release run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #release: Promise<void> | undefined;
  /** `performance.now()` at the first group's grant, for the hold duration metric. */
  readonly #grantedAt = performance.now();
  /**
   * Set once the hold is complete and handed to the caller: a hold given back while it was being
   * built (a later group refused, a timeout) is no hold of the caller's in the metrics and spans.
   */
  #handed = false;

  constructor(grant: MultiGrant) {
    this.#grant = grant;
  }

  get names(): readonly string[] {
    return [...this.fencingTokens.keys()];
  }

  fencingToken(name: string): number {
    const token = this.fencingTokens.get(name);
    if (token === undefined)
      throw new InvalidArgumentError('name', `"${name}" is not one of the names held.`);
    return token;
  }

  get expiresAt(): number {
    return Math.min(...this.#groups.map((g) => g.expiresAt));
  }

  /** True once a name is known lost (while the hold is being built, too). */
  get lost(): boolean {
    return this.#lost !== undefined;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#lost !== undefined) this.#controller.abort(this.#lost);
      else if (!this.#autoExtend && this.#state === 'held') this.#arm(this.#remaining());
    }
    return this.#controller.signal;
  }

  /** Adds a group just granted; the first one starts the watchdog. */
  add(group: HeldGroup): void {
    this.#groups.push(group);
    group.names.forEach((name, i) => {
      this.fencingTokens.set(name, group.fencingTokens[i] as number);
    });
    if (this.#groups.length === 1) this.#arm(this.#grant.ttlMs / 3);
  }

  /** The hold is complete: without `autoExtend`, stop extending and expire at the local TTL. */
  complete(autoExtend: boolean): void {
    this.#handed = true;
    this.#autoExtend = autoExtend;
    if (!autoExtend) {
      clearTimeout(this.#timer);
      if (this.#controller !== undefined) this.#arm(this.#remaining());
    }
  }

  async extend(ttlMs?: number): Promise<void> {
    const ms = checkMs('ttlMs', ttlMs) ?? this.#grant.ttlMs;
    if (this.#state !== 'held') throw this.#error('released', 0);
    if (this.#lost !== undefined && this.#lost.reason !== 'unconfirmed') throw this.#lost;
    return this.#serial(() => this.#extend(ms));
  }

  release(): Promise<void> {
    this.#release ??= this.#handed ? tracedRelease(this.names, () => this.#doRelease()) : this.#doRelease();
    return this.#release;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  async #doRelease(): Promise<void> {
    this.#state = 'releasing';
    clearTimeout(this.#timer);
    // Even after a loss the other names may still be ours: release every group.
    const outcomes = await this.#serial(() =>
      Promise.allSettled(this.#groups.map((g) => releaseGroup(this.#grant.conn, g, this.#grant.instance))),
    );
    this.#state = 'released';
    if (this.#handed) recordHold(this.#grantedAt);
    let failure: unknown;
    outcomes.forEach((outcome, i) => {
      const group = this.#groups[i] as HeldGroup;
      if (outcome.status === 'fulfilled') {
        this.#check(group, outcome.value);
        return;
      }
      failure ??= outcome.reason;
      // Redis did not answer: take the names back as soon as it does, not after the whole TTL.
      const until = performance.now() + this.#grant.ttlMs;
      group.keys.forEach((keys, j) => {
        this.#grant.giveBacks.add(keys, group.owners[j] as string, until);
      });
    });
    if (this.#lost !== undefined && this.#lost.reason !== 'unconfirmed') throw this.#lost;
    if (failure !== undefined) throw failure;
  }

  async #extend(ttlMs: number): Promise<void> {
    if (this.#state !== 'held') throw this.#error('released', 0);
    const sentAtMs = Date.now();
    const sentAtMono = performance.now();
    // While the names are ours, wait no longer than the earliest deadline: the loss must be reported then.
    const remaining = Math.ceil(this.#remaining());
    const bound = remaining > 0 ? remaining : undefined;
    const groups = [...this.#groups];
    const states = await Promise.all(groups.map((g) => extendGroup(this.#grant.conn, g, ttlMs, bound)));
    groups.forEach((group, i) => {
      this.#check(group, states[i] as NameState[]);
      group.expiresAt = sentAtMs + ttlMs;
      group.deadline = sentAtMono + ttlMs;
    });
    if (this.#lost !== undefined && this.#lost.reason !== 'unconfirmed') throw this.#lost;
    if (!this.#autoExtend && this.#controller !== undefined) this.#arm(this.#remaining());
  }

  /** Records the first name a script found gone or taken. */
  #check(group: HeldGroup, states: readonly NameState[]): void {
    const at = states.findIndex((s) => s !== 'ours');
    if (at < 0) return;
    const reason = states[at] as Exclude<NameState, 'ours'>;
    this.#lose(reason, this.#groups.indexOf(group), at);
  }

  #arm(delayMs: number): void {
    clearTimeout(this.#timer);
    const tick = this.#autoExtend ? () => this.#autoExtendTick() : () => this.#expireIfDue();
    this.#timer = setTimeout(tick, Math.max(0, delayMs));
    this.#timer.unref();
  }

  #autoExtendTick(): void {
    if (this.#state !== 'held') return;
    const { ttlMs } = this.#grant;
    this.#serial(() => this.#extend(ttlMs)).then(
      () => {
        if (this.#state === 'held' && this.#autoExtend) this.#arm(ttlMs / 3);
      },
      (err: unknown) => {
        if (this.#state !== 'held' || err instanceof LockLostError) return;
        const remaining = this.#remaining();
        if (remaining <= 0) this.#lose('unconfirmed', this.#earliest(), 0, err);
        else this.#arm(Math.min(ttlMs / 3, Math.max(10, remaining / 4)));
      },
    );
  }

  #expireIfDue(): void {
    if (this.#state !== 'held') return;
    const remaining = this.#remaining();
    if (remaining > 0) this.#arm(remaining);
    else this.#lose('expired', this.#earliest(), 0);
  }

  #remaining(): number {
    return Math.min(...this.#groups.map((g) => g.deadline)) - performance.now();
  }

  #earliest(): number {
    let at = 0;
    this.#groups.forEach((g, i) => {
      if (g.deadline < (this.#groups[at] as HeldGroup).deadline) at = i;
    });
    return at;
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => {});
    return run;
  }

  #error(reason: LockLossReason, groupAt: number, nameAt = 0, cause?: unknown): LockLostError {
    const group = this.#groups[groupAt] as HeldGroup;
    const name = group.names[nameAt] as string;
    const key = (group.keys[nameAt] as MultiGroup['keys'][number]).lock;
    const token = group.fencingTokens[nameAt] as number;
    return new LockLostError(name, key, token, reason, cause === undefined ? {} : { cause });
  }

  /** Records the first loss, stops the watchdog and tells the holder through the signal. */
  #lose(reason: LockLossReason, groupAt: number, nameAt: number, cause?: unknown): LockLostError {
    if (this.#lost === undefined || this.#lost.reason === 'unconfirmed') {
      if (this.#lost === undefined && this.#handed) countLost(reason);
      this.#lost = this.#error(reason, groupAt, nameAt, cause);
      clearTimeout(this.#timer);
      this.#controller?.abort(this.#lost);
    }
    return this.#lost;
  }
}

/** `withLocks`, as `withLock` does it for one name: see {@link runUnderHold}. */
export async function runWithHold<T>(
  acquiring: Promise<MultiHold>,
  fn: (signal: AbortSignal, handle: MultiLockHandle) => Promise<T> | T,
): Promise<T> {
  return runUnderHold<MultiLockHandle, T>(await acquiring, fn);
}
