import { checkKeyPart, RedisPatternsError } from '@redis-patterns/connection';
import { listSchedulePage, readSchedule, removeSchedule, writeSchedule } from './commands/index.js';
import { decodeJobData } from './jobs.js';
import type { QueueInternals } from './queue.js';
import { wakeSchedulers } from './schedule-runner.js';
import { parseSpec, type ScheduleJobOptions, toSpec } from './schedule-spec.js';
import { firstOccurrence } from './schedule-times.js';

export type { ScheduleJobOptions } from './schedule-spec.js';

/**
 * A repeatable job: when it runs (`cron` or `everyMs`), what it enqueues, and what happens to runs
 * missed while no worker was running. Each run enqueues one job, with id `<scheduleId>:<run time ms>`.
 */
export interface ScheduleOptions<T = unknown> {
  /**
   * A cron expression (parsed by croner): 5 fields `minute hour day-of-month month day-of-week`, 6
   * with seconds first, or 7 with years last; names (`MON`, `JAN`) and nicknames (`@daily`) work.
   * Day of month and day of week combine with OR, as in classic cron. Exactly one of `cron` and `everyMs`.
   */
  cron?: string;
  /** The IANA time zone `cron` is read in, daylight saving included. Only with `cron`. @default 'UTC' */
  tz?: string;
  /** A fixed interval in ms (a whole number, at least 100). Exactly one of `cron` and `everyMs`. */
  everyMs?: number;
  /** What each run enqueues (serialized once, when the schedule is written). */
  payload: T;
  /** Options of each job (attempts, backoff, priority, group, timeoutMs). @default the queue's defaultJobOptions */
  job?: ScheduleJobOptions;
  /**
   * Runs that fell due while the schedule was more than `missedAfterMs` behind (no worker running
   * anywhere): `'skip'` enqueues none of them, `'once'` enqueues one job for all of them (with the
   * first missed run's id); either way the schedule resumes at its first run after now.
   * @default 'skip'
   */
  missed?: 'skip' | 'once';
  /**
   * How late a run may still be enqueued: workers that fell less behind catch up run by run.
   * @default the time from the late run to the one after it (`everyMs` for an interval), at least 1000
   */
  missedAfterMs?: number;
  /**
   * An interval's first run, or the time from which cron looks for its first match. On a new
   * schedule it may be in the past: what fell due since then is handled by `missed`.
   * @default now (an interval's first run is one `everyMs` from now)
   */
  startAt?: Date | number;
  /** No run at or after this time; the schedule then stays listed, without a next run. @default none */
  endAt?: Date | number;
}

/** A schedule as {@link QueueSchedules.schedules} and {@link QueueSchedules.getSchedule} see it. */
export interface ScheduleInfo<T = unknown> {
  /** The schedule's id. */
  id: string;
  /** Its cron expression, if it has one. */
  cron?: string;
  /** The time zone of `cron` (canonical IANA name). */
  tz?: string;
  /** Its interval, if it has one. */
  everyMs?: number;
  /** What each run enqueues, deserialized. */
  payload: T;
  /** The job options it was given. */
  job: ScheduleJobOptions;
  /** Its missed-run policy. */
  missed: 'skip' | 'once';
  /** Its tolerance, if one was given. */
  missedAfterMs?: number;
  /** Epoch ms, if given. */
  startAt?: number;
  /** Epoch ms, if given. */
  endAt?: number;
  /** When it runs next (epoch ms, Redis server's clock); undefined once it has ended. */
  nextRunAt?: number;
}

/** What {@link QueueSchedules.schedule} did. */
export interface ScheduleResult {
  /** `'unchanged'` when the id had exactly this schedule already: nothing was written. */
  status: 'created' | 'updated' | 'unchanged';
  /** When it runs next (epoch ms, Redis server's clock); undefined when it has no run before `endAt`. */
  nextRunAt?: number;
}

/**
 * Repeatable jobs of a queue. Every started worker, in any process, fires the due schedules; each
 * run is enqueued exactly once however many workers there are, and whichever of them are killed.
 */
export interface QueueSchedules<T = unknown> {
  /**
   * Creates or updates schedule `id`. Declaring the same schedule again (from any number of
   * producers, at every deploy) is a no-op; a changed declaration replaces it, and its next run is
   * computed afresh from now. The first run of a new schedule is its first occurrence after now,
   * or at/after `startAt`.
   * @example
   * ```ts
   * await queue.schedule('daily-report', { cron: '0 9 * * 1-5', tz: 'Europe/Paris', payload: { kind: 'report' } });
   * await queue.schedule('heartbeat', { everyMs: 30_000, payload: { kind: 'ping' }, missed: 'once' });
   * ```
   */
  schedule(id: string, options: ScheduleOptions<T>): Promise<ScheduleResult>;
  /** Every schedule with its next run, soonest first (ended schedules last). */
  schedules(): Promise<Array<ScheduleInfo<T>>>;
  /** Schedule `id`, or undefined if there is none. */
  getSchedule(id: string): Promise<ScheduleInfo<T> | undefined>;
  /** Deletes schedule `id` (jobs it enqueued already stay); false if there was none. */
  unschedule(id: string): Promise<boolean>;
}

/** What the schedule calls need from their queue. */
type ScheduleContext = Pick<QueueInternals, 'conn' | 'keys' | 'options'>;

// Upserts of one id by many producers end in one round: the losers read the winner's spec and see
// it unchanged. Only producers writing different specs at once keep each other retrying.
const MAX_WRITES = 20;
const LIST_PAGE = 500;

/** The {@link QueueSchedules} methods of a queue; `open` throws once the queue is closed. */
export function queueSchedules<T>(q: ScheduleContext, open: () => void): QueueSchedules<T> {
  const { conn, keys } = q;
  const info = (id: string, text: string, next: number | null): ScheduleInfo<T> => {
    const spec = parseSpec(text);
    if (spec === undefined) {
      throw new RedisPatternsError(
        'ERR_INVALID_ARGUMENT',
        `Schedule "${id}" was written by another version of @redis-patterns/queue (${text.slice(0, 60)}); upgrade this process.`,
      );
    }
    const { v: _v, d, p: _p, g: _g, ...rest } = spec;
    const payload = q.options.serializer.deserialize(decodeJobData(d).payload) as T;
    return next === null ? { id, ...rest, payload } : { id, ...rest, payload, nextRunAt: next };
  };
  const result = (status: ScheduleResult['status'], next: number | null): ScheduleResult =>
    next === null ? { status } : { status, nextRunAt: next };

  return {
    async schedule(id, options) {
      open();
      const spec = toSpec(q.options, id, options);
      const text = JSON.stringify(spec);
      for (let attempt = 0; attempt < MAX_WRITES; attempt++) {
        const read = await readSchedule(conn, keys, id);
        if (read.spec === text) return result('unchanged', read.next);
        const next = firstOccurrence(spec, read.now, read.spec === null);
        if (await writeSchedule(conn, keys, id, read.spec, text, next)) {
          wakeSchedulers(keys.scheduleNext);
          return result(read.spec === null ? 'created' : 'updated', next);
        }
      }
      throw new RedisPatternsError(
        'ERR_TIMEOUT',
        `Schedule "${id}" was changed by other producers under each of ${MAX_WRITES} writes; this call wrote nothing. Try again.`,
      );
    },
    async schedules() {
      open();
      const found = new Map<string, ScheduleInfo<T>>();
      let cursor = '0';
      do {
        const page = await listSchedulePage(conn, keys, cursor, LIST_PAGE);
        // HSCAN may return an entry twice; the map keeps one.
        for (const s of page.schedules) found.set(s.id, info(s.id, s.spec, s.next));
        cursor = page.cursor;
      } while (cursor !== '0');
      const at = (s: ScheduleInfo<T>) => s.nextRunAt ?? Number.POSITIVE_INFINITY;
      return [...found.values()].sort((a, b) => at(a) - at(b) || (a.id < b.id ? -1 : 1));
    },
    async getSchedule(id) {
      open();
      checkKeyPart('id', id);
      const { spec, next } = await readSchedule(conn, keys, id);
      return spec === null ? undefined : info(id, spec, next);
    },
    async unschedule(id) {
      open();
      checkKeyPart('id', id);
      return removeSchedule(conn, keys, id);
    },
  };
}
