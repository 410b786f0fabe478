import { ClosedError } from '@redis-patterns/connection';

/** The steps of a worker's stop, in the order {@link drainWorker} takes them. */
export interface DrainingWorker {
  /** No more stalled-job checks or promotions, and a pending BLMOVE woken. */
  stopFetching(): void;
  /** Resolves once nothing is running, settling or fetching, or after `timeoutMs`. */
  waitIdle(timeoutMs: number): Promise<void>;
  /** Aborts the handlers still running; returns the jobs to give back (flat id, '1'). */
  abandonUnfinished(reason: Error): string[];
  /** Gives jobs back to waiting within `timeoutMs` (on failure, their leases expire instead). */
  release(flat: string[], timeoutMs: number): Promise<void>;
  /**
   * Stops the timers, closes the blocking connection and leaves the queue's workers; resolves once
   * its subscriber connection closed, or after `timeoutMs` (it is then destroyed).
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * A worker's stop, bounded by `timeoutMs` from the call: running handlers get all of it but the last
 * quarter (at most 1 s) when graceful, none otherwise; the rest is for giving unfinished jobs back
 * and recording finished ones. Whatever Redis did not confirm by then is left to the stalled-job check.
 */
export async function drainWorker(
  worker: DrainingWorker,
  graceful: boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const left = () => Math.max(0, deadline - performance.now());
  worker.stopFetching();
  await worker.waitIdle(graceful ? timeoutMs - Math.min(1_000, timeoutMs / 4) : 0);
  const reason = new ClosedError(
    'The worker stopped before this job finished; the job was returned to waiting and will run again.',
  );
  await worker.release(worker.abandonUnfinished(reason), Math.max(1, left()));
  // Finished jobs still to record, and a BLMOVE still blocked: until the deadline.
  await worker.waitIdle(left());
  await worker.close(Math.max(1, left()));
}

/** Callers waiting for a worker to become idle, each with its own time limit. */
export class IdleWaiters {
  #waiters: Array<() => void> = [];

  /** True while someone waits. */
  get waiting(): boolean {
    return this.#waiters.length > 0;
  }

  /** Resolves at the next {@link IdleWaiters.wake} or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiter = () => done();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(waiter);
    });
  }

  /** The worker is idle: every waiter resolves. */
  wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
