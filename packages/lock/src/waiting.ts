import { TimeoutError } from '@redis-patterns/connection';

/** The deadline error of `acquire()`. */
export function notAcquired(name: string, timeoutMs: number): TimeoutError {
  return new TimeoutError(
    `Lock "${name}" was not acquired within ${timeoutMs} ms: other owners held it. Raise timeoutMs, or see whether it is held with isLocked().`,
    timeoutMs,
  );
}

/** One pending `acquire()` call. */
export interface Waiter<H> {
  readonly ttlMs: number;
  readonly autoExtend: boolean;
  settled: boolean;
  grant(handle: H): void;
  fail(err: unknown): void;
}

/**
 * The waiters of one lock name in this process, oldest first. Only the oldest one contends in Redis
 * (the others wait their turn here), so 20 waiters in one process cost one attempt per release, not
 * twenty, and a process serves its own waiters in arrival order.
 */
export class WaitQueue<H> {
  readonly waiters: Array<Waiter<H>> = [];
  /** Bumped by every release message: an attempt that failed before the bump must be retried. */
  generation = 0;
  /**
   * `performance.now()` until which this process lets other processes take the lock first: it just
   * released it to them (see `yielded` in session.ts). A release by another instance ends it.
   */
  yieldUntil = 0;
  readonly #instance: string;
  #wake: (() => void) | undefined;

  /** @param instance the lock instance's id, which its own releases publish */
  constructor(instance: string) {
    this.#instance = instance;
  }

  /** A release happened (`by`: the releasing instance): let the sleeping contender look again. */
  released = (by?: string): void => {
    if (by !== undefined && by !== this.#instance) this.yieldUntil = 0;
    this.generation++;
    this.poke();
  };

  /** Wakes the contender without claiming a release (a waiter left, or the lock closed). */
  poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Sleeps `ms`, or less if a release message arrives or the queue changes. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  remove(waiter: Waiter<H>): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    // Only an empty queue needs its contender now (to stop); a new head just inherits the wait.
    if (this.waiters.length === 0) this.poke();
  }
}

/** How an `acquire()` call waits: its grant options, its bound and when it ends. */
export interface WaitOptions {
  ttlMs: number;
  autoExtend: boolean;
  /** The bound the caller gave (for the error message). */
  timeoutMs: number;
  /** `performance.now()` at which the wait ends: the call's start plus `timeoutMs`. */
  deadline: number;
  signal: AbortSignal | undefined;
}

/**
 * Creates a waiter that rejects with the signal's reason on abort and with {@link TimeoutError} at
 * its deadline (`timedOut`, for a semaphore's or a read/write lock's wording), removing itself from
 * `queue` either way.
 */
export function createWaiter<H>(
  queue: WaitQueue<H>,
  name: string,
  opts: WaitOptions,
  timedOut: (name: string, timeoutMs: number) => TimeoutError = notAcquired,
): { waiter: Waiter<H>; promise: Promise<H> } {
  let resolve!: (handle: H) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<H>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const { signal, timeoutMs } = opts;
  const onAbort = () => waiter.fail(signal?.reason);
  const deadline = setTimeout(
    () => waiter.fail(timedOut(name, timeoutMs)),
    Math.max(0, opts.deadline - performance.now()),
  );
  const settle = () => {
    waiter.settled = true;
    clearTimeout(deadline);
    signal?.removeEventListener('abort', onAbort);
    queue.remove(waiter);
  };
  const waiter: Waiter<H> = {
    ttlMs: opts.ttlMs,
    autoExtend: opts.autoExtend,
    settled: false,
    grant(handle) {
      settle();
      resolve(handle);
    },
    fail(err) {
      if (waiter.settled) return;
      settle();
      reject(err);
    },
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return { waiter, promise };
}
