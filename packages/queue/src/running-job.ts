import { OwnershipLostError, type Serializer } from '@redis-patterns/connection';
import type { JobCancelledError, JobTimeoutError } from './errors.js';
import type { RunTelemetry } from './otel.js';
import type { ActiveJob } from './worker.js';

/** The handler's view of a job; its AbortSignal is only created if the handler reads it. */
export class RunningJob<T> implements ActiveJob<T> {
  readonly id: string;
  readonly payload: T;
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Bound, so that handlers may destructure it. */
  readonly progress: (value: unknown) => Promise<void>;
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;

  constructor(
    id: string,
    payload: T,
    attempt: number,
    maxAttempts: number,
    report: (value: unknown) => Promise<void>,
  ) {
    this.id = id;
    this.payload = payload;
    this.attempt = attempt;
    this.maxAttempts = maxAttempts;
    this.progress = report;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export interface Run<T> {
  job: RunningJob<T>;
  backoff: string | null;
  /** Where a retry waits: its priority and group ('' for none), sent back with the outcome. */
  priority: string;
  group: string;
  /** The attempt's time limit timer, cleared when the handler returns. */
  timer: NodeJS.Timeout | undefined;
  /** Recorded as timed out while its handler still runs: the handler's return only frees the slot. */
  overdue?: boolean;
  /** Why the run must not complete whatever the handler returns: it was cancelled, or timed out. */
  stopped: JobCancelledError | JobTimeoutError | undefined;
  /** Local time until which the last confirmed lease surely holds. */
  leaseUntil: number;
  finished: boolean;
  /** The server said another worker owns it now: its outcome is dropped. */
  lost: boolean;
  /** Given back at stop: its outcome is dropped. */
  released: boolean;
  /** Its span and start time, when `@opentelemetry/api` is installed. */
  telemetry: RunTelemetry | undefined;
}

export interface Settlement<T> {
  run: Run<T>;
  outcome: 'done' | 'retry' | 'dead' | 'cancel';
  text: string;
  delayMs: number;
  value: unknown;
}

/** The abort reason and 'error' event when a job's lease is gone. */
export function lostError(run: Run<unknown>): OwnershipLostError {
  return new OwnershipLostError(
    run.job.id,
    `The lease of job ${run.job.id} was lost (it expired before a renewal reached Redis); another worker may run it now.`,
  );
}

/**
 * A kept result as text; a result the serializer cannot encode (it throws, or returns bytes or
 * anything else but a string) is kept empty.
 */
export function serializeResult(serializer: Serializer, value: unknown): string {
  try {
    const text = serializer.serialize(value);
    return typeof text === 'string' ? text : '';
  } catch {
    return '';
  }
}

const ERROR_TEXT_LIMIT = 2000;

/** What the job hash keeps of a failure: `name: message`, bounded. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : printable(error);
  return text.length > ERROR_TEXT_LIMIT ? `${text.slice(0, ERROR_TEXT_LIMIT)}…` : text;
}

/** Errors for the 'error' event are always Error objects. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(printable(err));
}

/** String(value), except for values that refuse it (Object.create(null), a throwing toString). */
function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[a thrown value that cannot be printed]';
  }
}
