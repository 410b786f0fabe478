import {
  ClosedError,
  checkKeyPart,
  createKeyspace,
  InvalidArgumentError,
  type RedisConnection,
  toConnection,
} from '@redis-patterns/connection';
import { checkInteger } from '@redis-patterns/connection/internal';
import {
  addJobs,
  countJobs,
  deleteQueueKeys,
  inspectJob,
  purgeJobs,
  retryDeadJobs,
} from './commands/index.js';
import {
  type AddResult,
  type EncodedJob,
  encodeJob,
  type JobInfo,
  type JobState,
  parseJobInfo,
  type QueueCounts,
} from './jobs.js';
import { type QueueKeys, queueKeys } from './keys.js';
import {
  type JobOptions,
  type QueueOptions,
  type ResolvedQueueOptions,
  resolveQueueOptions,
} from './options.js';
import { tracedSend } from './otel.js';
import {
  type CancelResult,
  type JobPage,
  type QueueLimits,
  queueAdmin,
  type RemoveResult,
} from './queue-admin.js';
import { type QueueSchedules, queueSchedules } from './schedules.js';
import { type WaitOptions, waitUntilFinished } from './wait.js';

/** A job queue; create workers for it with {@link createWorker}. Repeatable jobs: {@link QueueSchedules}. */
export interface Queue<T = unknown> extends QueueSchedules<T> {
  /** The queue's name (the hash tag of its keys). */
  readonly name: string;
  /** Adds a job; with `options.id` the add is idempotent (an existing id is left as it is). */
  add(payload: T, options?: JobOptions): Promise<AddResult>;
  /** Adds many jobs, one round trip per 1,000; all are validated before anything is written. */
  addBulk(jobs: ReadonlyArray<{ payload: T; options?: JobOptions }>): Promise<AddResult[]>;
  /** A job by id, or undefined once it is gone (completed jobs are deleted unless kept). */
  get(id: string): Promise<JobInfo<T> | undefined>;
  /**
   * Resolves with job `id`'s result once it completed (in any worker process), or rejects with
   * `JobFailedError` (its dead reason and last error) once it went to the dead-letter set, with
   * `TimeoutError` after `timeoutMs`, or with `InvalidArgumentError` when there is no such job and
   * no outcome of it in the event history. It reads the queue's event stream, so it works when
   * completed jobs are deleted at once; it switches the queue's event history on (10,000 events)
   * if it is off, and a job that finished before that and was not kept cannot be found.
   * @example
   * ```ts
   * const { id } = await queue.add({ n: 1 });
   * const result = await queue.waitUntilFinished<{ sum: number }>(id, { timeoutMs: 10_000 });
   * ```
   */
  waitUntilFinished<R = unknown>(id: string, options?: WaitOptions): Promise<R>;
  /** Sizes and counters, one consistent snapshot. */
  counts(): Promise<QueueCounts>;
  /** The first `count` jobs of a state: waiting next-first, active by lease deadline, delayed earliest-first, dead and completed newest-first. */
  peek(state: JobState, count?: number): Promise<Array<JobInfo<T>>>;
  /** Pauses the queue: workers in every process stop taking jobs within their `pollIntervalMs`; running jobs finish. */
  pause(): Promise<void>;
  /** Resumes a paused queue. */
  resume(): Promise<void>;
  /** Whether the queue is paused. */
  isPaused(): Promise<boolean>;
  /**
   * Sets the limits every worker obeys, in every process (replacing the previous ones; a limit left
   * out is removed): queue-wide concurrency and rate, and per-group concurrency and rate.
   * @example
   * ```ts
   * await queue.setLimits({ concurrency: 50, rate: { max: 100, intervalMs: 1000 }, group: { concurrency: 2 } });
   * ```
   */
  setLimits(limits: QueueLimits): Promise<void>;
  /** The limits set with {@link Queue.setLimits}. */
  getLimits(): Promise<QueueLimits>;
  /**
   * Turns the queue's event stream on, keeping about `maxLen` events (`MAXLEN ~`), or off with 0.
   * {@link createQueueEvents} turns it on by itself; while it is off, jobs cost no event writes.
   */
  setEventHistory(maxLen: number): Promise<void>;
  /** Removes a waiting, delayed, dead or kept completed job; a running one is left (`'active'`: cancel it). */
  remove(id: string): Promise<RemoveResult>;
  /**
   * Cancels a job: a running one's handler `signal` aborts with `JobCancelledError` in whatever
   * process runs it (`'cancelling'`), one not started yet goes straight to the dead-letter set
   * (`'cancelled'`); either way with dead reason `cancelled` and no retry.
   */
  cancel(id: string): Promise<CancelResult>;
  /**
   * One page of the jobs of a state: waiting in the order they would run (prioritized, plain, then
   * grouped), active by lease deadline, delayed earliest first, dead and completed newest first.
   * Offsets over a live queue may skip or repeat jobs that moved meanwhile.
   */
  list(state: JobState, page?: { offset?: number; count?: number }): Promise<JobPage<T>>;
  /** Moves dead jobs (the given ids, or all) to waiting with a fresh set of attempts; returns how many. */
  retryDead(ids?: readonly string[]): Promise<number>;
  /** Deletes the jobs of one state, or with no state every key of the queue (counters too); returns jobs/keys removed. */
  purge(state?: 'waiting' | 'delayed' | 'dead' | 'completed'): Promise<number>;
  /** Stops this process's workers of the queue (gracefully) and refuses further calls; the Redis connection stays open. */
  close(): Promise<void>;
  /** Same as {@link Queue.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What workers need from their queue; not part of the public surface. */
export interface QueueInternals {
  /** The queue's name, for telemetry. */
  name: string;
  conn: RedisConnection;
  keys: QueueKeys;
  options: ResolvedQueueOptions;
  isClosed(): boolean;
  /** Workers of this process, told when a local add or retry makes a delayed job due soon. */
  workers: Set<{ dueIn(ms: number): void; stop(): Promise<void> }>;
}

const internals = new WeakMap<object, QueueInternals>();

/** The internals of a queue made by {@link createQueue}. */
export function queueInternals(queue: Queue<any>): QueueInternals {
  const found = internals.get(queue);
  if (found === undefined) {
    throw new InvalidArgumentError('queue', 'expected a queue created by createQueue().');
  }
  return found;
}

const BULK_CHUNK = 1000;

/**
 * Creates a queue handle (nothing connects here). Producers `add`; workers from {@link createWorker}
 * process. All keys of the queue share the `{name}` hash tag, so it works on Redis Cluster as is.
 *
 * @example
 * ```ts
 * import { createQueue, createWorker } from '@redis-patterns/queue';
 *
 * const emails = createQueue<{ to: string }>({ redis, name: 'emails' });
 * await emails.add({ to: 'ada@example.com' }, { id: 'welcome:ada' }); // idempotent by id
 *
 * const worker = createWorker(emails, async ({ payload, signal }) => {
 *   await sendEmail(payload.to, { signal });
 * }, { concurrency: 20 });
 * worker.start();
 * process.on('SIGTERM', () => worker.stop({ drainTimeoutMs: 10_000 }));
 * ```
 */
export function createQueue<T = unknown>(options: QueueOptions): Queue<T> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', 'expected { redis, name }.');
  }
  checkKeyPart('name', options.name);
  const resolved = resolveQueueOptions(options);
  const keyspace = createKeyspace(resolved.prefix);
  const keys = queueKeys(keyspace, options.name);
  const conn = toConnection(options.redis);
  const deserialize = (text: string) => resolved.serializer.deserialize(text);
  let closed = false;
  const workers: QueueInternals['workers'] = new Set();

  const open = () => {
    if (closed) throw new ClosedError(`Queue "${options.name}" was closed; create a new one.`);
  };

  const send = async (encoded: EncodedJob[], trace: string): Promise<AddResult[]> => {
    const results: AddResult[] = [];
    for (let start = 0; start < encoded.length; start += BULK_CHUNK) {
      const chunk = encoded.slice(start, start + BULK_CHUNK);
      const flags = await addJobs(conn, keys, chunk, trace);
      chunk.forEach(([id, , delayMs], i) => {
        const added = flags[i] === true;
        results.push({ id, added });
        if (added && delayMs !== '0') for (const w of workers) w.dueIn(Number(delayMs));
      });
    }
    return results;
  };

  const admin = queueAdmin<T>(conn, keys, open, deserialize, resolved.keepDead);
  const queue: Queue<T> = {
    name: options.name,
    async add(payload, jobOptions) {
      open();
      const job = encodeJob('', payload, jobOptions, resolved);
      const [result] = await tracedSend(options.name, job[0], (trace) => send([job], trace));
      return result as AddResult;
    },
    async addBulk(jobs) {
      open();
      if (!Array.isArray(jobs))
        throw new InvalidArgumentError('jobs', 'expected an array of { payload, options? }.');
      const encoded = jobs.map((job, i) => {
        if (job === null || typeof job !== 'object') {
          throw new InvalidArgumentError(`jobs[${i}]`, 'expected { payload, options? }.');
        }
        return encodeJob(`jobs[${i}].`, job.payload, job.options, resolved);
      });
      return tracedSend(options.name, encoded.length, (trace) => send(encoded, trace));
    },
    async get(id) {
      open();
      checkKeyPart('id', id);
      const found = await inspectJob(conn, keys, id);
      if (found === null) return undefined;
      const { fields, delayedAt, deadAt, doneAt, active } = found;
      const state: JobState =
        delayedAt !== null
          ? 'delayed'
          : deadAt !== null
            ? 'dead'
            : doneAt !== null
              ? 'completed'
              : active
                ? 'active'
                : 'waiting';
      return parseJobInfo<T>(id, state, fields, deserialize, delayedAt);
    },
    waitUntilFinished: (id, waitOptions) => waitUntilFinished(queue, id, waitOptions),
    async counts() {
      open();
      return countJobs(conn, keys);
    },
    ...admin,
    ...queueSchedules<T>({ conn, keys, options: resolved }, open),
    async peek(state, count = 10) {
      checkInteger('count', count, 1);
      return (await admin.list(state, { count: Math.min(count, 1000) })).jobs;
    },
    async retryDead(ids) {
      open();
      if (ids !== undefined) {
        if (!Array.isArray(ids)) throw new InvalidArgumentError('ids', 'expected an array of job ids.');
        for (const [i, id] of ids.entries()) checkKeyPart(`ids[${i}]`, id);
      }
      let moved = 0;
      if (ids !== undefined) {
        for (let start = 0; start < ids.length; start += BULK_CHUNK) {
          const chunk = ids.slice(start, start + BULK_CHUNK);
          moved += await retryDeadJobs(conn, keys, chunk);
        }
        return moved;
      }
      for (;;) {
        const batch = await retryDeadJobs(conn, keys, [], BULK_CHUNK);
        moved += batch;
        if (batch < BULK_CHUNK) return moved;
      }
    },
    async purge(state) {
      open();
      if (state === undefined) return deleteQueueKeys(conn, keyspace.pattern(options.name));
      if (!['waiting', 'delayed', 'dead', 'completed'].includes(state)) {
        throw new InvalidArgumentError('state', "expected 'waiting', 'delayed', 'dead' or 'completed'.");
      }
      const source = {
        key:
          state === 'waiting'
            ? keys.prio
            : { delayed: keys.delayed, dead: keys.dead, completed: keys.done }[state],
        kind: state === 'waiting' ? ('waiting' as const) : ('zset' as const),
        // Completed jobs finished; the others are removed unfinished.
        countAsDiscarded: state !== 'completed',
      };
      let removed = 0;
      for (;;) {
        const batch = await purgeJobs(conn, keys, source, BULK_CHUNK);
        removed += batch;
        if (batch < BULK_CHUNK) return removed;
      }
    },
    async close() {
      if (closed) return;
      await Promise.all([...workers].map((w) => w.stop()));
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return queue.close();
    },
  };
  const { name } = options;
  internals.set(queue, { name, conn, keys, options: resolved, isClosed: () => closed, workers });
  return queue;
}
