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
  type AddResult,
  type EncodedJob,
  encodeJob,
  type JobInfo,
  type JobState,
  parseJobInfo,
  type QueueCounts,
} from './jobs.js';
import {
  type JobOptions,
  type QueueOptions,
  type ResolvedQueueOptions,
  resolveQueueOptions,
} from './options.js';
import {
  addJobs,
  countJobs,
  inspectJob,
  peekJobs,
  peekSource,
  purgeJobs,
  type QueueKeys,
  queueKeys,
  retryDeadJobs,
} from './scripts.js';

/** A job queue; create workers for it with {@link createWorker}. */
export interface Queue<T = unknown> {
  /** The queue's name (the hash tag of its keys). */
  readonly name: string;
  /** Adds a job; with `options.id` the add is idempotent (an existing id is left as it is). */
  add(payload: T, options?: JobOptions): Promise<AddResult>;
  /** Adds many jobs, one round trip per 1,000; all are validated before anything is written. */
  addBulk(jobs: ReadonlyArray<{ payload: T; options?: JobOptions }>): Promise<AddResult[]>;
  /** A job by id, or undefined once it is gone (completed jobs are deleted unless kept). */
  get(id: string): Promise<JobInfo<T> | undefined>;
  /** Sizes and counters, one consistent snapshot. */
  counts(): Promise<QueueCounts>;
  /** The first `count` jobs of a state: waiting next-first, active by lease deadline, delayed earliest-first, dead and completed newest-first. */
  peek(state: JobState, count?: number): Promise<Array<JobInfo<T>>>;
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

  const send = async (encoded: EncodedJob[]): Promise<AddResult[]> => {
    const results: AddResult[] = [];
    for (let start = 0; start < encoded.length; start += BULK_CHUNK) {
      const chunk = encoded.slice(start, start + BULK_CHUNK);
      const flags = await conn.runScript<number[]>(
        addJobs,
        [keys.waiting, keys.delayed, keys.stats, keys.jobPrefix],
        chunk.flat(),
      );
      chunk.forEach(([id, , delayMs], i) => {
        const added = flags[i] === 1;
        results.push({ id, added });
        if (added && delayMs !== '0') for (const w of workers) w.dueIn(Number(delayMs));
      });
    }
    return results;
  };

  const queue: Queue<T> = {
    name: options.name,
    async add(payload, jobOptions) {
      open();
      const [result] = await send([encodeJob('', payload, jobOptions, resolved)]);
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
      return send(encoded);
    },
    async get(id) {
      open();
      checkKeyPart('id', id);
      const reply = await conn.runScript<
        [Array<string | null>, string | null, string | null, string | null, number] | null
      >(inspectJob, [keys.leases, keys.active, keys.delayed, keys.dead, keys.done, keys.jobPrefix], [id]);
      if (reply === null) return undefined;
      const [flat, delayedAt, deadAt, doneAt, active] = reply;
      const state: JobState =
        delayedAt !== null
          ? 'delayed'
          : deadAt !== null
            ? 'dead'
            : doneAt !== null
              ? 'completed'
              : active === 1
                ? 'active'
                : 'waiting';
      return parseJobInfo<T>(id, state, flat, deserialize, delayedAt);
    },
    async counts() {
      open();
      const r = await conn.runScript<Array<number | string | null>>(
        countJobs,
        [keys.waiting, keys.leases, keys.active, keys.delayed, keys.dead, keys.stats],
        [],
      );
      const n = (i: number) => Number(r[i] ?? 0);
      return {
        waiting: n(0),
        active: n(1),
        delayed: n(2),
        dead: n(3),
        added: n(4),
        completed: n(5),
        failed: n(6),
        stalled: n(7),
        discarded: n(8),
      };
    },
    async peek(state, count = 10) {
      open();
      checkInteger('count', count, 1);
      const [source, kind] = peekSource(keys, state);
      const flat = await conn.runScript<Array<string | Array<string | null> | null>>(
        peekJobs,
        [source, keys.jobPrefix],
        [kind, String(count)],
      );
      const jobs: Array<JobInfo<T>> = [];
      for (let i = 0; i + 2 < flat.length; i += 3) {
        const fields = flat[i + 1] as Array<string | null>;
        if (fields.length === 0) continue; // its hash vanished between listing and reading
        jobs.push(parseJobInfo<T>(String(flat[i]), state, fields, deserialize, flat[i + 2] as string | null));
      }
      return jobs;
    },
    async retryDead(ids) {
      open();
      if (ids !== undefined) {
        if (!Array.isArray(ids)) throw new InvalidArgumentError('ids', 'expected an array of job ids.');
        for (const [i, id] of ids.entries()) checkKeyPart(`ids[${i}]`, id);
      }
      const scriptKeys = [keys.dead, keys.waiting, keys.jobPrefix];
      let moved = 0;
      if (ids !== undefined) {
        for (let start = 0; start < ids.length; start += BULK_CHUNK) {
          const chunk = ids.slice(start, start + BULK_CHUNK);
          moved += await conn.runScript<number>(retryDeadJobs, scriptKeys, [String(chunk.length), ...chunk]);
        }
        return moved;
      }
      for (;;) {
        const batch = await conn.runScript<number>(retryDeadJobs, scriptKeys, [String(BULK_CHUNK)]);
        moved += batch;
        if (batch < BULK_CHUNK) return moved;
      }
    },
    async purge(state) {
      open();
      if (state === undefined) return purgeAll(conn, keyspace.pattern(options.name));
      if (!['waiting', 'delayed', 'dead', 'completed'].includes(state)) {
        throw new InvalidArgumentError('state', "expected 'waiting', 'delayed', 'dead' or 'completed'.");
      }
      const source = state === 'waiting' ? keys.waiting : peekSource(keys, state)[0];
      const kind = state === 'waiting' ? 'list' : 'zset';
      const discard = state === 'completed' ? '0' : '1';
      let removed = 0;
      for (;;) {
        const batch = await conn.runScript<number>(
          purgeJobs,
          [source, keys.stats, keys.jobPrefix],
          [kind, String(BULK_CHUNK), discard],
        );
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
  internals.set(queue, { conn, keys, options: resolved, isClosed: () => closed, workers });
  return queue;
}

async function purgeAll(conn: RedisConnection, pattern: string): Promise<number> {
  let batch: string[] = [];
  let removed = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    // Every key of the queue shares its hash tag, so one multi-key UNLINK is fine on Cluster.
    removed += await conn.send<number>(['UNLINK', ...batch], { key: batch[0] as string });
    batch = [];
  };
  for await (const key of conn.scan(pattern)) {
    batch.push(key);
    if (batch.length >= 500) await flush();
  }
  await flush();
  return removed;
}
