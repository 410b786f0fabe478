import { ClosedError, type TimeoutError } from '@redis-patterns/connection';
import { untilAborted } from './lock.js';
import { createWaiter, type Waiter, type WaitOptions, WaitQueue } from './waiting.js';
import type { ReleaseWakeups } from './wakeups.js';

/** One attempt's outcome: a grant and how many more grants may succeed now, or a wait hint. */
export type Outcome<H> =
  | { handle: H; free: number; heldForMs?: undefined }
  | { handle?: undefined; heldForMs: number };

/** What a caller waits for: its queue (a name and kind), the channel that announces releases. */
export interface WaitTarget<H> {
  /** The local queue: one per name and kind of grant. */
  queue: string;
  name: string;
  channel: string;
  /** This caller's attempt (its own limit, TTL and auto-extension). */
  attempt: () => Promise<Outcome<H>>;
  /** The error at the caller's deadline. */
  timedOut: (name: string, timeoutMs: number) => TimeoutError;
}

/**
 * The waiting `acquire()` calls of a semaphore or read/write lock in one process. Per queue, one
 * contender subscribes to the release channel, then attempts for the oldest waiters: one at first,
 * then as many at once as the last grant said were still free (their attempts share one script
 * call), in arrival order. A grant goes on at once to the next attempt; a refusal sleeps until a
 * release message, or the poll (`delayMs` + jitter, or sooner when the earliest holder's TTL runs
 * out). A release between a refusal and the sleep bumps the queue's generation, so it is not missed.
 */
export class PermitWaits<H extends { release(): Promise<void> }> {
  readonly #wakeups: ReleaseWakeups;
  readonly #timing: { delayMs: number; jitterMs: number };
  readonly #instance: string;
  readonly #queues = new Map<string, { queue: WaitQueue<H>; attempts: Map<Waiter<H>, WaitTarget<H>> }>();
  #closed = false;
  /** The error given to close(): every wait still running ends with it. */
  #closeError: ClosedError | undefined;

  constructor(wakeups: ReleaseWakeups, timing: { delayMs: number; jitterMs: number }, instance: string) {
    this.#wakeups = wakeups;
    this.#timing = timing;
    this.#instance = instance;
  }

  /** True while callers of this process wait in `queue`: newcomers stand in line behind them. */
  isQueued(queue: string): boolean {
    return this.#queues.has(queue);
  }

  /** Waits in the target's queue until granted, aborted, timed out or closed. */
  wait(target: WaitTarget<H>, opts: WaitOptions): Promise<H> {
    let entry = this.#queues.get(target.queue);
    const fresh = entry === undefined;
    entry ??= { queue: new WaitQueue<H>(this.#instance), attempts: new Map() };
    const { queue, attempts } = entry;
    const { waiter, promise } = createWaiter(queue, target.name, opts, target.timedOut);
    queue.waiters.push(waiter);
    attempts.set(waiter, target);
    const forget = () => attempts.delete(waiter);
    promise.then(forget, forget);
    if (fresh) {
      this.#queues.set(target.queue, entry);
      this.#contend(target, entry).catch((err: unknown) => {
        for (const w of [...queue.waiters]) w.fail(err);
      });
    }
    return promise;
  }

  /** Rejects every waiting call with `error`. */
  close(error: ClosedError): void {
    this.#closed = true;
    this.#closeError = error;
    for (const { queue } of this.#queues.values()) for (const w of [...queue.waiters]) w.fail(error);
  }

  async #contend(
    target: WaitTarget<H>,
    entry: { queue: WaitQueue<H>; attempts: Map<Waiter<H>, WaitTarget<H>> },
  ): Promise<void> {
    const { queue, attempts } = entry;
    await this.#wakeups.listen(target.channel, queue.released);
    let burst = 1;
    try {
      while (queue.waiters.length > 0 && !this.#closed) {
        const takers = queue.waiters.slice(0, burst);
        const seen = queue.generation;
        const outcomes = await Promise.allSettled(
          takers.map((w) => (attempts.get(w) as WaitTarget<H>).attempt()),
        );
        let granted = 0;
        let free = 0;
        let heldForMs: number | undefined;
        for (const [i, outcome] of outcomes.entries()) {
          const waiter = takers[i] as Waiter<H>;
          if (outcome.status === 'rejected') {
            // Redis failed: say so now rather than hide the outage until the deadline.
            waiter.fail(outcome.reason);
            continue;
          }
          const value = outcome.value;
          if (value.heldForMs !== undefined) {
            heldForMs = Math.min(heldForMs ?? value.heldForMs, value.heldForMs);
            continue;
          }
          granted++;
          free = value.free;
          // The caller left (timed out, aborted) while the attempt flew: a grant nobody holds goes back.
          if (waiter.settled) value.handle.release().catch(() => {});
          else waiter.grant(value.handle);
        }
        burst = granted > 0 ? Math.max(1, Math.min(free, 100)) : 1;
        if (granted > 0 || queue.generation !== seen || outcomes.some((o) => o.status === 'rejected'))
          continue;
        await queue.sleep(this.#pollDelay(heldForMs));
      }
    } finally {
      // Synchronous with the loop's last emptiness check: an acquire() cannot slip in between.
      if (this.#queues.get(target.queue) === entry) this.#queues.delete(target.queue);
      this.#wakeups.unlisten(target.channel, queue.released);
      const error =
        this.#closeError ??
        new ClosedError(`Waiting for "${target.name}" ended while acquire() waited; try again.`);
      for (const w of [...queue.waiters]) w.fail(error);
    }
  }

  /** Until the earliest holder's TTL runs out (if sooner) or one poll interval, plus jitter. */
  #pollDelay(heldForMs: number | undefined): number {
    const { delayMs, jitterMs } = this.#timing;
    const base = heldForMs !== undefined && heldForMs >= 0 ? Math.min(heldForMs, delayMs) : delayMs;
    return base + Math.random() * jitterMs;
  }
}

/** A caller's resolved options, as `acquireOrWait` reads them. */
export interface CallOptions {
  signal: AbortSignal | undefined;
  timeoutMs: number;
  ttlMs: number;
  autoExtend: boolean;
}

/**
 * `acquire()` of a semaphore or read/write lock: unless callers of this process already wait in
 * the target's queue (then it stands in line behind them), one attempt at once, bounded by the
 * wait and by the command timeout (an outage is reported as such, not as a long wait), then the
 * queue. The wait is bounded from the call, the first attempt's round trip included.
 */
export async function acquireOrWait<H extends { release(): Promise<void> }>(
  waits: PermitWaits<H>,
  target: WaitTarget<H> & { attemptWithin: (timeoutMs: number | undefined) => Promise<Outcome<H>> },
  opts: CallOptions,
  commandTimeoutMs: number,
): Promise<H> {
  const { signal, timeoutMs } = opts;
  if (signal?.aborted) throw signal.reason;
  const deadline = performance.now() + timeoutMs;
  if (!waits.isQueued(target.queue)) {
    const bound = timeoutMs === 0 ? undefined : Math.min(timeoutMs, commandTimeoutMs || timeoutMs);
    const handle = await untilAborted(
      target.attemptWithin(bound).then((o) => o.handle),
      signal,
    );
    if (handle !== undefined) return handle;
    if (timeoutMs === 0 || performance.now() >= deadline) throw target.timedOut(target.name, timeoutMs);
  }
  return waits.wait(target, { ...opts, deadline });
}
