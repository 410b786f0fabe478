import { RedisPatternsError } from '@redis-patterns/connection';

/**
 * The reason a handler's `signal` aborts when its job was cancelled with `queue.cancel(id)`. The
 * job goes to the dead-letter set with reason `cancelled`, without a retry, whatever the handler
 * returns afterwards.
 *
 * @example
 * ```ts
 * createWorker(queue, async ({ signal }) => {
 *   signal.addEventListener('abort', () => {
 *     if (signal.reason instanceof JobCancelledError) console.log('cancelled by an operator');
 *   });
 * });
 * ```
 */
export class JobCancelledError extends RedisPatternsError {
  /** The cancelled job's id. */
  readonly jobId: string;

  constructor(jobId: string) {
    super('ERR_JOB_CANCELLED', `Job ${jobId} was cancelled; it will not be retried.`);
    this.name = 'JobCancelledError';
    this.jobId = jobId;
  }
}

/**
 * The reason a handler's `signal` aborts when its attempt ran past the job's `timeoutMs`. The
 * attempt counts as failed (and is retried while attempts remain), whatever the handler returns.
 */
export class JobTimeoutError extends RedisPatternsError {
  /** The job's id. */
  readonly jobId: string;
  /** The job's time limit per attempt. */
  readonly timeoutMs: number;

  constructor(jobId: string, timeoutMs: number) {
    super('ERR_JOB_TIMEOUT', `Job ${jobId} ran longer than its timeoutMs (${timeoutMs} ms).`);
    this.name = 'JobTimeoutError';
    this.jobId = jobId;
    this.timeoutMs = timeoutMs;
  }
}

/** `waitUntilFinished` rejects with this when the job went to the dead-letter set. */
export class JobFailedError extends RedisPatternsError {
  /** The job's id. */
  readonly jobId: string;
  /** Why it died. */
  readonly reason: 'failed' | 'stalled' | 'cancelled';
  /** Its last error, as the job hash keeps it (`name: message`). */
  readonly lastError: string;

  constructor(jobId: string, reason: 'failed' | 'stalled' | 'cancelled', lastError: string) {
    super('ERR_JOB_FAILED', `Job ${jobId} is dead (${reason}): ${lastError}`);
    this.name = 'JobFailedError';
    this.jobId = jobId;
    this.reason = reason;
    this.lastError = lastError;
  }
}
