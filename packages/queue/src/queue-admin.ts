import { checkKeyPart, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { checkDuration, checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import { cancelJob, configureQueue, listJobs, readConfig, removeJob } from './commands/index.js';
import { type JobInfo, type JobState, parseJobInfo } from './jobs.js';
import type { QueueKeys } from './keys.js';
import type { ResolvedRetention } from './options.js';

/** The shortest event history: gaps are detected exactly while it keeps a full read (event-stream.ts). */
export const MIN_EVENT_HISTORY = 100;

/** A number of jobs per interval. */
export interface RateLimit {
  /** Jobs started per window, at most. */
  max: number;
  /** The window (fixed, starting with its first job). */
  intervalMs: number;
}

/**
 * Limits that every worker of the queue obeys, in every process; stored in Redis with the queue.
 * A limit left out is no limit.
 */
export interface QueueLimits {
  /** Jobs of the queue running at once, across all workers. @default no limit */
  concurrency?: number;
  /** Jobs of the queue started per window, across all workers. @default no limit */
  rate?: RateLimit;
  /** Limits for each group (jobs added with `group`), each group counted on its own. @default no limit */
  group?: {
    /** Jobs of one group running at once. @default no limit */
    concurrency?: number;
    /** Jobs of one group started per window. @default no limit */
    rate?: RateLimit;
  };
}

/** What {@link Queue.remove} did. */
export type RemoveResult = 'removed' | 'active' | 'missing';
/** What {@link Queue.cancel} did. */
export type CancelResult = 'cancelled' | 'cancelling' | 'finished' | 'missing';

/** A page of {@link Queue.list}. */
export interface JobPage<T> {
  /** The jobs of this page. */
  jobs: Array<JobInfo<T>>;
  /** The offset of the next page, or undefined after the last one. */
  nextOffset: number | undefined;
}

const STATES: readonly JobState[] = ['waiting', 'active', 'delayed', 'dead', 'completed'];

function checkRate(at: string, rate: RateLimit | undefined): void {
  if (rate === undefined) return;
  checkOptions(at, rate, '{ max, intervalMs }');
  if (rate.max === undefined || rate.intervalMs === undefined) {
    throw new InvalidArgumentError(at, 'expected { max, intervalMs }.');
  }
  checkInteger(`${at}.max`, rate.max, 1);
  checkDuration(`${at}.intervalMs`, rate.intervalMs);
}

/** The `config` hash fields of `limits`: every limit field, '' for those left out. */
export function limitFields(limits: QueueLimits): Record<string, string> {
  checkOptions('limits', limits, '{ concurrency?, rate?, group? }');
  checkInteger('limits.concurrency', limits.concurrency, 1);
  checkRate('limits.rate', limits.rate);
  const group = checkOptions('limits.group', limits.group, '{ concurrency?, rate? }');
  checkInteger('limits.group.concurrency', group.concurrency, 1);
  checkRate('limits.group.rate', group.rate);
  const text = (n: number | undefined) => (n === undefined ? '' : String(Math.ceil(n)));
  return {
    c: text(limits.concurrency),
    rm: text(limits.rate?.max),
    ri: text(limits.rate?.intervalMs),
    gc: text(group.concurrency),
    grm: text(group.rate?.max),
    gri: text(group.rate?.intervalMs),
  };
}

/** The limits stored in the `config` hash. */
export function readLimits(config: Record<string, string>): QueueLimits {
  const limits: QueueLimits = {};
  const n = (field: string) => (config[field] === undefined ? undefined : Number(config[field]));
  const rate = (max: number | undefined, intervalMs: number | undefined) =>
    max === undefined || intervalMs === undefined ? undefined : { max, intervalMs };
  if (n('c') !== undefined) limits.concurrency = n('c') as number;
  const queueRate = rate(n('rm'), n('ri'));
  if (queueRate) limits.rate = queueRate;
  const group: NonNullable<QueueLimits['group']> = {};
  if (n('gc') !== undefined) group.concurrency = n('gc') as number;
  const groupRate = rate(n('grm'), n('gri'));
  if (groupRate) group.rate = groupRate;
  if (group.concurrency !== undefined || group.rate !== undefined) limits.group = group;
  return limits;
}

/** The queue's pause, limits, remove, cancel and list calls (see the Queue interface for each). */
export function queueAdmin<T>(
  conn: RedisConnection,
  keys: QueueKeys,
  open: () => void,
  deserialize: (text: string) => unknown,
  keepDead: ResolvedRetention,
) {
  return {
    async pause(): Promise<void> {
      open();
      await configureQueue(conn, keys, { paused: '1' });
    },
    async resume(): Promise<void> {
      open();
      await configureQueue(conn, keys, { paused: '' });
    },
    async isPaused(): Promise<boolean> {
      open();
      return (await readConfig(conn, keys)).paused === '1';
    },
    async setLimits(limits: QueueLimits): Promise<void> {
      open();
      await configureQueue(conn, keys, limitFields(limits));
    },
    async getLimits(): Promise<QueueLimits> {
      open();
      return readLimits(await readConfig(conn, keys));
    },
    async setEventHistory(maxLen: number): Promise<void> {
      open();
      checkInteger('maxLen', maxLen, 0);
      if (maxLen > 0 && maxLen < MIN_EVENT_HISTORY) {
        throw new InvalidArgumentError(
          'maxLen',
          `expected 0 (off) or at least ${MIN_EVENT_HISTORY}, got ${maxLen}.`,
        );
      }
      await configureQueue(conn, keys, { ev: maxLen === 0 ? '' : String(maxLen) });
    },
    async remove(id: string): Promise<RemoveResult> {
      open();
      checkKeyPart('id', id);
      return removeJob(conn, keys, id);
    },
    async cancel(id: string): Promise<CancelResult> {
      open();
      checkKeyPart('id', id);
      return cancelJob(conn, keys, id, keepDead);
    },
    async list(state: JobState, page?: { offset?: number; count?: number }): Promise<JobPage<T>> {
      open();
      if (!STATES.includes(state)) {
        throw new InvalidArgumentError('state', `expected one of ${STATES.map((s) => `'${s}'`).join(', ')}.`);
      }
      const { offset = 0, count = 100 } = checkOptions('page', page, '{ offset?, count? }');
      checkInteger('page.offset', offset, 0);
      checkInteger('page.count', count, 1);
      if (count > 1000) throw new InvalidArgumentError('page.count', `expected at most 1000, got ${count}.`);
      const listed = await listJobs(conn, keys, state, offset, count);
      const jobs: Array<JobInfo<T>> = [];
      for (const { id, fields, score } of listed) {
        if (fields.length === 0) continue; // its hash vanished between listing and reading
        jobs.push(parseJobInfo<T>(id, state, fields, deserialize, score));
      }
      return { jobs, nextOffset: listed.length < count ? undefined : offset + count };
    },
  };
}
