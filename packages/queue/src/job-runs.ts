import { OwnershipLostError } from '@redis-patterns/connection';
import { type LeasedJob, recordProgress } from './commands/index.js';
import { JobCancelledError, JobTimeoutError } from './errors.js';
import type { JobData } from './jobs.js';
import { backoffDelay } from './options.js';
import { countOutcome, endRun, inRun, type RunOutcome, startRun } from './otel.js';
import type { QueueInternals } from './queue.js';
import {
  describeError,
  lostError,
  type Run,
  RunningJob,
  type Settlement,
  serializeResult,
  toError,
} from './running-job.js';
import type { JobHandler, ResolvedWorkerOptions } from './worker.js';

/** The counted outcome of each settlement. */
const OUTCOMES: Record<Settlement<unknown>['outcome'], RunOutcome> = {
  done: 'completed',
  retry: 'retried',
  dead: 'dead',
  cancel: 'cancelled',
};

/** What the runs need from their worker. */
export interface JobRunsHost<T> {
  readonly handler: JobHandler<T>;
  readonly options: ResolvedWorkerOptions<T>;
  /** An outcome waits to be settled, or a slot came free: exchange soon. */
  settleSoon(): void;
  /** A job retried with a delay is due in `ms`. */
  dueIn(ms: number): void;
  /** The worker's lease token. */
  readonly token: string;
  emit(name: 'completed' | 'failed' | 'dead', ...args: unknown[]): void;
  error(error: Error): void;
}

/**
 * The jobs a worker holds, from lease to settlement: it runs their handlers, turns each result or
 * failure into an outcome (done, retry after a backoff, dead), queues the outcomes for the worker's
 * next exchange, and reports what the exchange recorded.
 */
export class JobRuns<T> {
  readonly #q: QueueInternals;
  readonly #host: JobRunsHost<T>;
  readonly #runs = new Map<string, Run<T>>();
  #settled: Array<Settlement<T>> = [];
  /** Handlers still running after their attempt was recorded as timed out. */
  #overdue = 0;

  constructor(q: QueueInternals, host: JobRunsHost<T>) {
    this.#q = q;
    this.#host = host;
  }

  /** Jobs held, their outcomes not yet recorded included, and handlers still running past their timeout. */
  get size(): number {
    return this.#runs.size + this.#overdue;
  }

  /** Outcomes waiting for an exchange. */
  get unsettled(): number {
    return this.#settled.length;
  }

  /** Takes up to `max` outcomes to send. */
  takeOutcomes(max: number): Array<Settlement<T>> {
    return this.#settled.splice(0, max);
  }

  /** Puts outcomes back, first in line, after an exchange that may not have run. */
  restoreOutcomes(settle: Array<Settlement<T>>): void {
    this.#settled.unshift(...settle);
  }

  /** The runs whose leases to renew. */
  renewable(): Array<Run<T>> {
    return [...this.#runs.values()].filter((r) => !r.released && !r.lost);
  }

  /** Runs the handler of a job just leased (`sentAt`: when the lease was asked for). */
  start(leased: LeasedJob, data: JobData, failures: number, sentAt: number): void {
    const { id } = leased;
    let payload: T;
    let decodeError: unknown;
    try {
      payload = this.#q.options.serializer.deserialize(data.payload) as T;
    } catch (err) {
      payload = undefined as T;
      decodeError = err ?? new Error('the payload could not be deserialized');
    }
    const job = new RunningJob<T>(id, payload, failures + 1, data.attempts, (value) =>
      this.#progress(run, value),
    );
    const run: Run<T> = {
      job,
      backoff: data.backoff,
      priority: leased.priority,
      group: leased.group,
      timer: undefined,
      stopped: undefined,
      leaseUntil: sentAt + this.#host.options.leaseMs,
      finished: false,
      lost: false,
      released: false,
      telemetry: startRun(this.#q.name, leased),
    };
    const previous = this.#runs.get(id);
    if (previous !== undefined) {
      // Our own lease expired, the job was rescued and came back to us: the old run's outcome
      // must not settle the new lease (same token), so it is dropped.
      this.lose(previous);
      this.#settled = this.#settled.filter((s) => s.run !== previous);
    }
    this.#runs.set(id, run);
    if (decodeError !== undefined) {
      // A payload this serializer cannot read fails the same way every time: no retry.
      this.#finish(run, false, decodeError, true);
      return;
    }
    if (data.timeoutMs !== undefined) {
      const timeoutMs = data.timeoutMs;
      run.timer = setTimeout(() => {
        if (run.finished || run.stopped) return;
        run.stopped = new JobTimeoutError(id, timeoutMs);
        job.abort(run.stopped);
        // The attempt fails now, whatever the handler does; its slot stays taken until it returns.
        run.overdue = true;
        this.#overdue++;
        this.#finish(run, false, run.stopped, false);
      }, timeoutMs);
    }
    Promise.resolve()
      .then(() => inRun(run.telemetry, () => this.#host.handler(job)))
      .then(
        (result) => this.#returned(run, true, result),
        (error: unknown) => this.#returned(run, false, error),
      );
  }

  /** Reports the outcomes an exchange recorded; those of `lost` ids were dropped by Redis. */
  settled(settle: Array<Settlement<T>>, lost: Set<string>): void {
    for (const s of settle) {
      const { job } = s.run;
      if (this.#runs.get(job.id) === s.run) this.#runs.delete(job.id);
      countOutcome(this.#q.name, lost.has(job.id) ? 'lost' : OUTCOMES[s.outcome]);
      if (lost.has(job.id)) {
        this.#host.error(
          new OwnershipLostError(
            this.#q.keys.jobPrefix + job.id,
            `Job ${job.id} finished (${s.outcome}) after its lease had expired and another worker took it; this result was dropped and the job runs again. Raise leaseMs if handlers block the event loop.`,
          ),
        );
        continue;
      }
      if (s.outcome === 'done') this.#host.emit('completed', job, s.value);
      else if (s.outcome === 'retry') {
        this.#host.emit('failed', job, s.value, s.delayMs);
        if (s.delayMs > 0) this.#host.dueIn(s.delayMs);
      } else if (s.outcome === 'cancel') {
        this.#host.emit('dead', job.id, 'cancelled', s.text);
      } else {
        this.#host.emit('failed', job, s.value, undefined);
        this.#host.emit('dead', job.id, 'failed', s.text);
      }
    }
  }

  /** The job was cancelled: abort its handler; its outcome will be `cancel` (dead, no retry). */
  cancel(id: string): void {
    const run = this.#runs.get(id);
    if (run === undefined || run.finished || run.stopped instanceof JobCancelledError) return;
    run.stopped = new JobCancelledError(id);
    run.job.abort(run.stopped);
  }

  /** The server says another worker owns this run's job now: abort its handler, drop its outcome. */
  lose(run: Run<T>): void {
    if (run.lost) return;
    run.lost = true;
    const error = lostError(run);
    if (!run.finished) run.job.abort(error);
    this.#host.error(error);
  }

  /**
   * At stop: aborts the handlers still running with `reason` and forgets their runs. Returns what to
   * give back to waiting (flat id, '1'), leaving out runs already lost to another worker.
   */
  abandonUnfinished(reason: Error): string[] {
    const unfinished = [...this.#runs.values()].filter((r) => !r.finished);
    for (const run of unfinished) {
      clearTimeout(run.timer);
      run.released = true;
      endRun(run.telemetry, 'released');
      run.job.abort(reason);
      this.#runs.delete(run.job.id);
    }
    return unfinished.flatMap((r) => (r.lost ? [] : [r.job.id, '1']));
  }

  async #progress(run: Run<T>, value: unknown): Promise<void> {
    const { conn, keys, options } = this.#q;
    const text = serializeResult(options.serializer, value);
    const held = !run.lost && (await recordProgress(conn, keys, this.#host.token, run.job.id, text));
    if (!held) throw lostError(run);
  }

  /** The handler returned (or threw); a run already recorded as timed out only frees its slot now. */
  #returned(run: Run<T>, ok: boolean, value: unknown): void {
    if (run.overdue) {
      run.overdue = false;
      this.#overdue--;
      this.#host.settleSoon();
      return;
    }
    this.#finish(run, ok, value, false);
  }

  #finish(run: Run<T>, ok: boolean, value: unknown, final: boolean): void {
    run.finished = true;
    clearTimeout(run.timer);
    if (run.released) return;
    if (run.lost || this.#runs.get(run.job.id) !== run) endRun(run.telemetry, 'lost', lostError(run));
    if (this.#runs.get(run.job.id) !== run) return;
    if (run.lost) {
      this.#runs.delete(run.job.id);
      this.#host.settleSoon();
      return;
    }
    if (run.stopped instanceof JobCancelledError) {
      this.#settled.push({ run, outcome: 'cancel', text: describeError(run.stopped), delayMs: 0, value });
      endRun(run.telemetry, 'cancelled', run.stopped);
      this.#host.settleSoon();
      return;
    }
    if (ok) {
      // Sent whenever there is one: a kept job stores it, a `completed` event carries it.
      const text = value === undefined ? '' : serializeResult(this.#q.options.serializer, value);
      this.#settled.push({ run, outcome: 'done', text, delayMs: 0, value });
      endRun(run.telemetry, 'completed');
    } else {
      const failures = run.job.attempt;
      const retry = !final && failures < run.job.maxAttempts;
      const delayMs = retry ? this.#retryDelay(run, failures, value) : 0;
      this.#settled.push({
        run,
        outcome: retry ? 'retry' : 'dead',
        text: describeError(value),
        delayMs,
        value,
      });
      endRun(run.telemetry, retry ? 'retried' : 'dead', value ?? new Error('the handler threw undefined'));
    }
    this.#host.settleSoon();
  }

  #retryDelay(run: Run<T>, failures: number, error: unknown): number {
    let custom: number | undefined;
    try {
      custom = this.#host.options.backoff?.(failures, error, run.job);
    } catch (err) {
      this.#host.error(toError(err));
    }
    if (typeof custom === 'number' && Number.isFinite(custom) && custom >= 0) return Math.ceil(custom);
    return backoffDelay(run.backoff, failures);
  }
}
