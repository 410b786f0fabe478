import type { StreamEntry } from './commands/index.js';

/** What every job event carries. */
export interface JobEvent {
  /** The event's id in the queue's event stream; pass it as `from` to resume after it. */
  eventId: string;
  /** The job it is about. */
  jobId: string;
}

/** A worker took the job. */
export interface JobActiveEvent extends JobEvent {
  /** 1 on the first run, 2 on the first retry, and so on. */
  attempt: number;
}

/** The handler reported progress with `progress(value)`. */
export interface JobProgressEvent extends JobEvent {
  /** The value given, deserialized with the queue's serializer. */
  progress: unknown;
}

/** The job completed. */
export interface JobCompletedEvent extends JobEvent {
  /** What the handler returned, deserialized; undefined for undefined or a value the serializer could not encode. */
  result: unknown;
}

/** An attempt failed. */
export interface JobFailedEvent extends JobEvent {
  /** The error's `name: message`. */
  error: string;
  /** The attempt that failed (1-based). */
  attempt: number;
}

/** A failed job will run again. */
export interface JobRetryingEvent extends JobEvent {
  /** The attempt it will run as (1-based). */
  attempt: number;
  /** The backoff before it: how long it waits in `delayed`. */
  delayMs: number;
}

/** Why a job went to the dead-letter set. */
export type DeadReason = 'failed' | 'stalled' | 'cancelled';

/** The job went to the dead-letter set. */
export interface JobDeadEvent extends JobEvent {
  /** The last error. */
  error: string;
  /** Its attempts failed, it stalled more than `maxStalls` times, or it was cancelled. */
  reason: DeadReason;
}

/** The job was cancelled with `cancel(id)` and went to the dead-letter set with reason `cancelled`. */
export interface JobCancelledEvent extends JobEvent {
  /** What its handler ended with after the abort ('' when it was cancelled before it ran). */
  error: string;
}

/** The job's worker stopped renewing its lease (crash, kill, blocked event loop) and the job was put back. */
export interface JobStalledEvent extends JobEvent {
  /** Times it stalled so far. */
  stalls: number;
}

/** The whole queue was paused or resumed. */
export interface QueueStateEvent {
  /** The event's id in the queue's event stream. */
  eventId: string;
}

/** Events trimmed from the capped history before this subscriber read them. */
export interface EventGap {
  /** The last event this subscriber received (or the position it started after): events right after it are gone. */
  afterEventId: string;
  /**
   * How many events were lost; undefined when the subscriber resumed (`from`) after an id older
   * than the whole history kept, where events after that id may have been lost but the history
   * cannot tell how many, or whether any.
   */
  missed: number | undefined;
}

/** The events of {@link QueueEvents}, each with what its listener gets. */
export interface QueueEventMap {
  /** A job was added (also a delayed one, when added). */
  added: [event: JobEvent];
  /** A worker took the job (each attempt). */
  active: [event: JobActiveEvent];
  /** The handler reported progress. */
  progress: [event: JobProgressEvent];
  /** The job completed, with its result. */
  completed: [event: JobCompletedEvent];
  /** An attempt failed; `retrying` or `dead` follows. */
  failed: [event: JobFailedEvent];
  /** A failed job will run again after its backoff. */
  retrying: [event: JobRetryingEvent];
  /** The job went to the dead-letter set (attempts failed, or stalled too often). */
  dead: [event: JobDeadEvent];
  /** The job was removed with `remove(id)`. */
  removed: [event: JobEvent];
  /** The job was cancelled; it is in the dead-letter set (no `dead` event follows). */
  cancelled: [event: JobCancelledEvent];
  /** The job's worker lost it and it was put back. */
  stalled: [event: JobStalledEvent];
  /** The queue was paused. */
  paused: [event: QueueStateEvent];
  /** The queue was resumed. */
  resumed: [event: QueueStateEvent];
  /** Events were lost: more than the history's MAXLEN were written while this subscriber was away or behind. */
  gap: [gap: EventGap];
  /** A read failed (the subscriber reconnects by itself), a value could not be deserialized, or a listener threw. */
  error: [error: Error];
}

/** The name of an event a job or the queue emits (every key of {@link QueueEventMap} but `gap` and `error`). */
export type QueueEventName = Exclude<keyof QueueEventMap, 'gap' | 'error'>;

/** A decoded stream entry: its event name and what its listeners get. */
export type DecodedEvent = { [K in QueueEventName]: [K, QueueEventMap[K][0]] }[QueueEventName];

/** Turns serialized text (a result, a progress value) into a value; '' is undefined. */
export type Decode = (text: string, what: string) => unknown;

/** The typed event of one stream entry (fields as SPEC'd for the scripts), or undefined for a name it does not know. */
export function decodeEvent(entry: StreamEntry, decode: Decode): DecodedEvent | undefined {
  const f = entry.fields;
  const eventId = entry.id;
  const jobId = f.get('j') ?? '';
  const job = { eventId, jobId };
  const num = (field: string) => Number(f.get(field) ?? 0);
  const name = f.get('e');
  switch (name) {
    case 'added':
    case 'removed':
      return [name, job];
    case 'cancelled':
      return ['cancelled', { ...job, error: f.get('x') ?? '' }];
    case 'stalled':
      return ['stalled', { ...job, stalls: num('s') }];
    case 'active':
      return ['active', { ...job, attempt: num('a') }];
    case 'progress':
      return ['progress', { ...job, progress: decode(f.get('p') ?? '', `the progress of job "${jobId}"`) }];
    case 'completed':
      return ['completed', { ...job, result: decode(f.get('r') ?? '', `the result of job "${jobId}"`) }];
    case 'failed':
      return ['failed', { ...job, error: f.get('x') ?? '', attempt: num('a') }];
    case 'retrying':
      return ['retrying', { ...job, attempt: num('a'), delayMs: num('w') }];
    case 'dead':
      return ['dead', { ...job, error: f.get('x') ?? '', reason: (f.get('dr') ?? 'failed') as DeadReason }];
    case 'paused':
    case 'resumed':
      return [name, { eventId }];
    default:
      return undefined; // written by a newer version: skipped, its id still counts as read
  }
}
