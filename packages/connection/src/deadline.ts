import { ClosedError, TimeoutError, toPatternsError } from './errors.js';

/** Sweeps stop after this many empty ticks in a row, so an idle connection keeps no timer alive. */
const IDLE_TICKS_BEFORE_PAUSE = 20;

/**
 * One bounded wait. It is also the `abortSignal` handed to node-redis with the command (node-redis
 * only reads `aborted` and adds and removes an `abort` listener): when the wait expires, a command
 * node-redis has not written yet (held in its offline queue while a socket reconnects, behind a
 * Cluster redirect, or about to be resent after NOSCRIPT) is dropped and can never be sent later,
 * because node-redis refuses to queue a command whose signal has aborted. A command already written
 * may still apply: that is what a {@link TimeoutError} means.
 */
export class CommandDeadline {
  /** True once the wait expired (or the connection closed): node-redis must not send the command. */
  aborted = false;
  readonly what: string;
  readonly timeoutMs: number;
  /** Routes the error message: whether the command's node was reachable when it expired. */
  readonly key: string | undefined;
  /** @internal `performance.now()` at which the wait expires. */
  at = 0;
  /** @internal */
  reject: (err: unknown) => void = ignore;
  /** @internal */
  bucket: Set<CommandDeadline> | undefined;
  #listeners: Array<() => void> | undefined;

  constructor(what: string, timeoutMs: number, key: string | undefined) {
    this.what = what;
    this.timeoutMs = timeoutMs;
    this.key = key;
  }

  /** For node-redis: called once per command sent with this deadline. */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  /** For node-redis: the command was written (or settled); nothing is left to drop. */
  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  /** Drops whatever node-redis still holds unwritten, and refuses any later send. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }

  /** As node-redis's `abortSignal` option. */
  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
  }
}

/**
 * Bounded waits for many commands with one timer.
 *
 * node-redis 6 arms an `AbortSignal.timeout` per command (its 5 s default) and disarms it once the
 * command is written, so a command sent to a paused server still waits forever. Here each command
 * only joins a bucket of commands that share a deadline tick; one unref'd interval rejects whole
 * expired buckets. A command never fails early: it is rejected between `timeoutMs` and
 * `timeoutMs + tickMs` after it started.
 */
export class DeadlineSweeper {
  /** Sweep interval: the most a timed-out command is rejected late. */
  readonly tickMs: number;
  readonly #buckets = new Map<number, Set<CommandDeadline>>();
  #timer: NodeJS.Timeout | undefined;
  #idleTicks = 0;

  readonly #expired: (deadline: CommandDeadline) => Error;

  /**
   * @param tickMs sweep interval
   * @param expired builds the error for a command past its deadline; the default is a
   * {@link TimeoutError}, a connection may say {@link ConnectionError} while it is reconnecting
   */
  constructor(tickMs: number, expired: (deadline: CommandDeadline) => Error = timeoutError) {
    this.tickMs = tickMs;
    this.#expired = expired;
  }

  /** Settles like `command`, or rejects with {@link TimeoutError} once `timeoutMs` has passed. */
  track<T>(command: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    return this.run(timeoutMs, what, undefined, () => command);
  }

  /**
   * Starts the wait, then calls `send` with its deadline to pass to node-redis as `abortSignal`.
   * Settles like the promise `send` returns, or rejects once `timeoutMs` has passed, after aborting
   * the deadline so that node-redis drops the command if it is still unwritten.
   */
  run<T>(
    timeoutMs: number,
    what: string,
    key: string | undefined,
    send: (deadline: CommandDeadline) => Promise<T>,
  ): Promise<T> {
    const deadline = new CommandDeadline(what, timeoutMs, key);
    return new Promise<T>((resolve, reject) => {
      deadline.at = performance.now() + timeoutMs;
      const index = Math.floor(deadline.at / this.tickMs);
      let bucket = this.#buckets.get(index);
      if (bucket === undefined) {
        bucket = new Set();
        this.#buckets.set(index, bucket);
      }
      deadline.reject = reject;
      deadline.bucket = bucket;
      bucket.add(deadline);
      this.#timer ??= this.#start();
      let command: Promise<T>;
      try {
        command = send(deadline);
      } catch (err) {
        bucket.delete(deadline);
        reject(err);
        return;
      }
      command.then(
        (value) => {
          deadline.bucket?.delete(deadline);
          resolve(value);
        },
        (err: unknown) => {
          deadline.bucket?.delete(deadline);
          reject(toPatternsError(err, what));
        },
      );
    });
  }

  /** Aborts and rejects everything still waiting (used by `close()` after its drain period). */
  rejectAll(reason: (deadline: CommandDeadline) => unknown): void {
    for (const bucket of this.#buckets.values()) {
      for (const deadline of bucket) {
        deadline.abort();
        deadline.reject(reason(deadline));
      }
    }
    this.#buckets.clear();
  }

  /** Number of commands currently tracked. */
  get size(): number {
    let n = 0;
    for (const bucket of this.#buckets.values()) n += bucket.size;
    return n;
  }

  /** Stops the sweep timer (it restarts with the next tracked command). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #start(): NodeJS.Timeout {
    this.#idleTicks = 0;
    const timer = setInterval(() => this.#sweep(), this.tickMs);
    timer.unref();
    return timer;
  }

  #sweep(): void {
    const now = performance.now();
    const due = Math.floor(now / this.tickMs);
    for (const [index, bucket] of this.#buckets) {
      if (index > due) continue;
      for (const deadline of bucket) {
        // The current tick's bucket also holds deadlines later in the tick: the next sweep's.
        if (deadline.at > now) continue;
        bucket.delete(deadline);
        deadline.bucket = undefined;
        // Abort first: the caller learns of the failure only once nothing unwritten can follow it.
        deadline.abort();
        deadline.reject(this.#expired(deadline));
      }
    }
    // Buckets emptied by settled commands are dropped lazily; an empty map means nothing to watch.
    for (const [index, bucket] of this.#buckets) if (bucket.size === 0) this.#buckets.delete(index);
    if (this.#buckets.size > 0) this.#idleTicks = 0;
    else if (++this.#idleTicks >= IDLE_TICKS_BEFORE_PAUSE) this.stop();
  }
}

function timeoutError(deadline: CommandDeadline): Error {
  return new TimeoutError(
    `${deadline.what} got no reply within ${deadline.timeoutMs} ms; Redis is slow or paused. Raise commandTimeoutMs if the command is legitimately slow.`,
    deadline.timeoutMs,
  );
}

// A tenth of the bound as a power of two, 1-64 ms: one sweeper per precision in use, so a per-call
// timeout much shorter than the default (a rate limiter's 500 ms) is not 100 ms late.
const tickFor = (timeoutMs: number) => 2 ** Math.min(6, Math.max(0, Math.floor(Math.log2(timeoutMs / 10))));

/** The sweepers of one connection, one per tick size in use. */
export class Deadlines {
  readonly #defaultMs: number;
  readonly #expired: (deadline: CommandDeadline) => Error;
  readonly #sweepers = new Map<number, DeadlineSweeper>();
  /** By timeout too, so a per-call timeout costs a map lookup, not the tick arithmetic, per command. */
  readonly #byTimeout = new Map<number, DeadlineSweeper>();
  readonly #default: DeadlineSweeper;

  /** @param defaultMs the connection's bound (0: none) */
  constructor(defaultMs: number, expired: (deadline: CommandDeadline) => Error) {
    this.#defaultMs = defaultMs;
    this.#expired = expired;
    this.#default = this.#sweeperFor(defaultMs || 1000);
  }

  /** Bounds a promise that cannot be dropped once sent (a typed node-redis command). */
  track<T>(command: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    if (timeoutMs === 0) return command.catch((err: unknown) => Promise.reject(toPatternsError(err, what)));
    return this.#sweeperFor(timeoutMs).track(command, timeoutMs, what);
  }

  /** Runs `send` under a deadline of `timeoutMs` (the connection's bound when undefined; 0: none). */
  run<T>(
    timeoutMs: number | undefined,
    what: string,
    key: string | undefined,
    send: (deadline: CommandDeadline | undefined) => Promise<T>,
  ): Promise<T> {
    const ms = timeoutMs ?? this.#defaultMs;
    if (ms === 0) return send(undefined).catch((err: unknown) => Promise.reject(toPatternsError(err, what)));
    return (ms === this.#defaultMs ? this.#default : this.#sweeperFor(ms)).run(ms, what, key, send);
  }

  /** Rejects every wait with ClosedError and stops the timers. */
  close(): void {
    for (const each of this.#sweepers.values()) {
      each.rejectAll(() => new ClosedError());
      each.stop();
    }
  }

  #sweeperFor(timeoutMs: number): DeadlineSweeper {
    const known = this.#byTimeout.get(timeoutMs);
    if (known !== undefined) return known;
    const tick = tickFor(timeoutMs);
    let found = this.#sweepers.get(tick);
    if (found === undefined) {
      found = new DeadlineSweeper(tick, this.#expired);
      this.#sweepers.set(tick, found);
    }
    if (this.#byTimeout.size < 64) this.#byTimeout.set(timeoutMs, found);
    return found;
  }
}

function ignore(): void {}
