import { InvalidArgumentError } from '@redis-patterns/connection';
import { checkDuration, checkInteger } from '@redis-patterns/connection/internal';
import { QueueWorker } from './consumer.js';
import { type Queue, queueInternals } from './queue.js';

/** What a handler gets. */
export interface ActiveJob<T = unknown> {
  /** The job's id; a good idempotency key for side effects, since a job can run more than once. */
  readonly id: string;
  /** What was added, deserialized. */
  readonly payload: T;
  /** 1 on the first run, 2 on the first retry, and so on. */
  readonly attempt: number;
  /** The job's `attempts`: after a failure on the last one the job is dead. */
  readonly maxAttempts: number;
  /**
   * Aborted when the worker stops before the handler finished (`ClosedError`), when the job's lease
   * is lost (`OwnershipLostError`), when the job is cancelled (`JobCancelledError`) or when the
   * attempt runs past the job's `timeoutMs` (`JobTimeoutError`); `signal.reason` says which.
   */
  readonly signal: AbortSignal;
  /**
   * Records the job's progress (any value the queue's serializer encodes) in its hash and, while the
   * queue's event stream is on, emits a `progress` event. One round trip. Rejects with
   * `OwnershipLostError` when this worker no longer holds the job.
   */
  progress(value: unknown): Promise<void>;
}

/** Processes one job; resolve to complete it, throw (or reject) to fail this attempt. */
export type JobHandler<T = unknown> = (job: ActiveJob<T>) => unknown;

/** Options of {@link createWorker}. */
export interface WorkerOptions<T = unknown> {
  /** Jobs run at the same time by this worker. @default 1 */
  concurrency?: number;
  /** How long a job stays leased without a renewal; renewed every leaseMs / 3 while the handler runs. @default 30000 */
  leaseMs?: number;
  /** Rescues of a job from a dead or frozen worker before it goes to the dead-letter set instead. @default 3 */
  maxStalls?: number;
  /** Longest an idle worker blocks (BLMOVE), and longest a delayed job or a schedule written by another process waits past its time. @default 1000 */
  pollIntervalMs?: number;
  /** Custom backoff: ms before the next attempt after `failures` failures; return undefined to use the job's backoff. @default the job's backoff */
  backoff?: (failures: number, error: unknown, job: ActiveJob<T>) => number | undefined;
}

/** Worker options with every default applied. */
export interface ResolvedWorkerOptions<T> {
  concurrency: number;
  leaseMs: number;
  maxStalls: number;
  pollIntervalMs: number;
  backoff: WorkerOptions<T>['backoff'];
}

/** Options of {@link Worker.stop}. */
export interface StopOptions {
  /** Let running handlers finish (up to `drainTimeoutMs`) before giving the rest back. @default true */
  graceful?: boolean;
  /**
   * The most `stop()` takes, measured from the call: running handlers get all of it but the last
   * quarter (at most 1 s), which is kept for returning unfinished jobs to waiting and recording
   * finished ones. Whatever Redis did not confirm by then is left to the stalled-job check.
   * @default 30000
   */
  drainTimeoutMs?: number;
}

/** Events of a {@link Worker}. */
export interface WorkerEvents<T = unknown> {
  /** A job completed and its completion is recorded in Redis. */
  completed: [job: ActiveJob<T>, result: unknown];
  /** An attempt failed; `retryInMs` is undefined when the job went to the dead-letter set. */
  failed: [job: ActiveJob<T>, error: unknown, retryInMs: number | undefined];
  /** A job went to the dead-letter set: its attempts failed, it stalled too often, or it was cancelled. */
  dead: [id: string, reason: 'failed' | 'stalled' | 'cancelled', error: string];
  /** This worker's stalled-job check put a job from a dead or frozen worker back in waiting. */
  stalled: [id: string, stalls: number];
  /** A background failure (Redis unreachable, lost lease); the worker keeps going. */
  error: [error: Error];
}

/** Runs a queue's jobs; create with {@link createWorker}. */
export interface Worker<T = unknown> {
  /** Starts fetching; returns at once. */
  start(): void;
  /** Stops fetching, lets running jobs finish (graceful) and gives unfinished ones back to waiting. */
  stop(options?: StopOptions): Promise<void>;
  /** `stop(options)`, after which `start()` throws `ClosedError`. The connection stays open. */
  close(options?: StopOptions): Promise<void>;
  /** `close()` with the default stop options, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
  /** True between `start()` and the beginning of `stop()`. */
  readonly running: boolean;
  /** Jobs this worker holds right now. */
  readonly activeCount: number;
  /** Listens to an event (see {@link WorkerEvents}); without an 'error' listener, background errors are dropped. */
  on<K extends keyof WorkerEvents<T>>(event: K, listener: (...args: WorkerEvents<T>[K]) => void): this;
  /** Listens to the next occurrence of an event. */
  once<K extends keyof WorkerEvents<T>>(event: K, listener: (...args: WorkerEvents<T>[K]) => void): this;
  /** Removes a listener. */
  off<K extends keyof WorkerEvents<T>>(event: K, listener: (...args: WorkerEvents<T>[K]) => void): this;
}

/**
 * Creates a worker for `queue` (nothing connects until `start()`). Delivery is at least once: a job
 * runs again only if its worker died, froze past its lease, lost Redis past its lease, or was
 * stopped with the job unfinished after `drainTimeoutMs`.
 *
 * @example
 * ```ts
 * const worker = createWorker(queue, async ({ id, payload, attempt, signal }) => {
 *   await charge(payload, { idempotencyKey: id, signal });
 * }, { concurrency: 10, leaseMs: 30_000 });
 * worker.on('dead', (id, reason, error) => alert(`job ${id} is dead (${reason}): ${error}`));
 * worker.start();
 * ```
 */
export function createWorker<T>(
  queue: Queue<T>,
  handler: JobHandler<T>,
  options: WorkerOptions<T> = {},
): Worker<T> {
  const internals = queueInternals(queue);
  if (typeof handler !== 'function') throw new InvalidArgumentError('handler', 'expected a function.');
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', 'expected worker options ({ concurrency?, leaseMs?, ... }).');
  }
  checkInteger('concurrency', options.concurrency, 1);
  checkDuration('leaseMs', options.leaseMs);
  checkInteger('maxStalls', options.maxStalls, 0);
  checkDuration('pollIntervalMs', options.pollIntervalMs);
  if (options.backoff !== undefined && typeof options.backoff !== 'function') {
    throw new InvalidArgumentError('backoff', 'expected a function (failures, error, job) => ms.');
  }
  return new QueueWorker(internals, handler, {
    concurrency: options.concurrency ?? 1,
    leaseMs: Math.ceil(options.leaseMs ?? 30_000),
    maxStalls: options.maxStalls ?? 3,
    pollIntervalMs: Math.ceil(options.pollIntervalMs ?? 1000),
    backoff: options.backoff,
  });
}
