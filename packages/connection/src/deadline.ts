import { TimeoutError, toPatternsError } from './errors.js';

interface Pending {
  reject: (err: unknown) => void;
  bucket: Set<Pending>;
  what: string;
  timeoutMs: number;
}

/** Sweeps stop after this many empty ticks in a row, so an idle connection keeps no timer alive. */
const IDLE_TICKS_BEFORE_PAUSE = 20;

/**
 * Bounded waits for many commands with one timer.
 *
 * node-redis 6 arms an `AbortSignal.timeout` per command (its 5 s default), which costs about 3.5x
 * throughput at 50 commands in flight, and it disarms that timer once the command is written, so a
 * command sent to a paused server still waits forever. Here each command only joins a bucket of
 * commands that share a deadline tick; one unref'd interval rejects whole expired buckets. A command
 * never fails early: it is rejected between `timeoutMs` and `timeoutMs + tickMs` after it started.
 */
export class DeadlineSweeper {
  /** Sweep interval: the most a timed-out command is rejected late. */
  readonly tickMs: number;
  readonly #buckets = new Map<number, Set<Pending>>();
  #timer: NodeJS.Timeout | undefined;
  #idleTicks = 0;

  readonly #expired: (what: string, timeoutMs: number) => Error;

  /**
   * @param tickMs sweep interval
   * @param expired builds the error for a command past its deadline; the default is a
   * {@link TimeoutError}, a connection may say {@link ConnectionError} while it is reconnecting
   */
  constructor(tickMs: number, expired: (what: string, timeoutMs: number) => Error = timeoutError) {
    this.tickMs = tickMs;
    this.#expired = expired;
  }

  /** Settles like `command`, or rejects with {@link TimeoutError} once `timeoutMs` has passed. */
  track<T>(command: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const index = Math.ceil((performance.now() + timeoutMs) / this.tickMs);
      let bucket = this.#buckets.get(index);
      if (bucket === undefined) {
        bucket = new Set();
        this.#buckets.set(index, bucket);
      }
      const pending: Pending = { reject, bucket, what, timeoutMs };
      bucket.add(pending);
      this.#timer ??= this.#start();
      command.then(
        (value) => {
          pending.bucket.delete(pending);
          resolve(value);
        },
        (err: unknown) => {
          pending.bucket.delete(pending);
          reject(toPatternsError(err, what));
        },
      );
    });
  }

  /** Rejects everything still waiting (used by `close()` after its drain period). */
  rejectAll(reason: (p: { what: string; timeoutMs: number }) => unknown): void {
    for (const bucket of this.#buckets.values()) {
      for (const pending of bucket) pending.reject(reason(pending));
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
    const due = Math.floor(performance.now() / this.tickMs);
    for (const [index, bucket] of this.#buckets) {
      if (index > due) continue;
      this.#buckets.delete(index);
      for (const pending of bucket) pending.reject(this.#expired(pending.what, pending.timeoutMs));
    }
    // Buckets emptied by settled commands are dropped lazily; an empty map means nothing to watch.
    for (const [index, bucket] of this.#buckets) if (bucket.size === 0) this.#buckets.delete(index);
    if (this.#buckets.size > 0) this.#idleTicks = 0;
    else if (++this.#idleTicks >= IDLE_TICKS_BEFORE_PAUSE) this.stop();
  }
}

function timeoutError(what: string, timeoutMs: number): Error {
  return new TimeoutError(
    `${what} got no reply within ${timeoutMs} ms; Redis is slow or paused. Raise commandTimeoutMs if the command is legitimately slow.`,
    timeoutMs,
  );
}
