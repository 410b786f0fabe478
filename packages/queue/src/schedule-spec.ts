import { checkKeyPart, InvalidArgumentError, MAX_KEY_PART_LENGTH } from '@redis-patterns/connection';
import { checkDuration, checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import { CronPattern } from 'croner';
import { encodeJob } from './jobs.js';
import { checkJobOptions, type JobOptions, type ResolvedQueueOptions } from './options.js';
import { cronAfter } from './schedule-times.js';
import type { ScheduleOptions } from './schedules.js';

// A schedule's stored form, and the validation that makes one from what the caller declared.

/** When a schedule runs, as its stored spec says (times are epoch ms on the Redis server's clock). */
export interface ScheduleTiming {
  cron?: string;
  /** IANA zone of `cron` (always set with `cron`). */
  tz?: string;
  everyMs?: number;
  startAt?: number;
  endAt?: number;
  missed: 'skip' | 'once';
  missedAfterMs?: number;
}

/** Options of the jobs a schedule enqueues: those of `add`, but the id and the delay are the schedule's. */
export type ScheduleJobOptions = Omit<JobOptions, 'id' | 'delayMs'>;

/**
 * A schedule's stored form (the `schedules` hash value, as JSON, keys in this order so that one
 * declaration always gives the same text: that is how an upsert sees "unchanged"); `v` is the
 * format version.
 */
export interface ScheduleSpec extends ScheduleTiming {
  v: 1;
  /** The job's `d` field, priority and group, as jobs.ts encodeJob makes them. */
  d: string;
  p: string;
  g: string;
  /** The job options as given, for listing. */
  job: ScheduleJobOptions;
}

/** The smallest `everyMs`: each run costs every running scheduler a read and a script call. */
export const MIN_EVERY_MS = 100;

// A run's job id is `<scheduleId>:<ms>`, and ms since 1970 have 13 digits until the year 2286.
const RUN_SUFFIX = 14;

/** A stored spec, or undefined if it is not one this version can read. */
export function parseSpec(text: string): ScheduleSpec | undefined {
  try {
    const spec = JSON.parse(text) as ScheduleSpec;
    const timed = typeof spec.cron === 'string' || typeof spec.everyMs === 'number';
    return spec.v === 1 && timed && typeof spec.d === 'string' ? spec : undefined;
  } catch {
    return undefined;
  }
}

/** Validates a declaration and encodes its spec; throws {@link InvalidArgumentError} before any write. */
export function toSpec(resolved: ResolvedQueueOptions, id: string, options: ScheduleOptions): ScheduleSpec {
  checkKeyPart('id', id);
  if (id.length + RUN_SUFFIX > MAX_KEY_PART_LENGTH) {
    throw new InvalidArgumentError(
      'id',
      `is ${id.length} characters; a schedule id is limited to ${MAX_KEY_PART_LENGTH - RUN_SUFFIX} (its jobs' ids add the run time).`,
    );
  }
  if (options === undefined)
    throw new InvalidArgumentError('options', 'expected { cron | everyMs, payload, ... }.');
  checkOptions('options', options, '{ cron | everyMs, payload, ... }');
  const { cron, everyMs, missed = 'skip' } = options;
  if ((cron === undefined) === (everyMs === undefined)) {
    throw new InvalidArgumentError('options', 'expected exactly one of cron and everyMs.');
  }
  const job = checkOptions('job', options.job, '{ attempts?, backoff?, priority?, group?, timeoutMs? }');
  for (const field of ['id', 'delayMs'] as const) {
    if (job[field as keyof typeof job] !== undefined) {
      throw new InvalidArgumentError(
        `job.${field}`,
        'is set by the schedule (its id and run time); leave it out.',
      );
    }
  }
  if (missed !== 'skip' && missed !== 'once')
    throw new InvalidArgumentError('missed', "expected 'skip' or 'once'.");
  checkDuration('missedAfterMs', options.missedAfterMs);
  const startAt = toMs('startAt', options.startAt);
  const endAt = toMs('endAt', options.endAt);
  if (startAt !== undefined && endAt !== undefined && endAt <= startAt) {
    throw new InvalidArgumentError('endAt', 'must be after startAt.');
  }
  const timing: ScheduleTiming = { missed };
  if (cron !== undefined) {
    timing.cron = checkCron(cron);
    timing.tz = checkZone(options.tz ?? 'UTC');
    if (cronAfter(timing.cron, timing.tz, Date.now()) === null) {
      throw new InvalidArgumentError('cron', `"${timing.cron}" never matches a future time.`);
    }
  } else {
    if (options.tz !== undefined)
      throw new InvalidArgumentError('tz', 'applies to cron only; leave it out with everyMs.');
    checkInteger('everyMs', everyMs, MIN_EVERY_MS);
    timing.everyMs = everyMs as number;
  }
  if (options.missedAfterMs !== undefined) timing.missedAfterMs = Math.ceil(options.missedAfterMs);
  if (startAt !== undefined) timing.startAt = startAt;
  if (endAt !== undefined) timing.endAt = endAt;
  // The job is encoded once, here, like an add: every scheduler enqueues the same bytes, whatever
  // its own queue defaults. Its delay is the schedule's business, so encodeJob's is dropped.
  checkJobOptions('job', job);
  const [, d, , p, g] = encodeJob('', options.payload, job, resolved);
  return { v: 1, ...timing, d, p, g, job: sortedKeys(job) } as ScheduleSpec;
}

/** `value` with its keys (and those of nested objects) sorted and undefined ones left out, so that
 * `{ attempts, backoff }` and `{ backoff, attempts }` store the same text. */
function sortedKeys<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : 1));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortedKeys(v)])) as T;
}

function toMs(name: string, value: Date | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(name, 'expected a Date or epoch milliseconds.');
  }
  return Math.ceil(ms);
}

function checkCron(cron: unknown): string {
  if (typeof cron !== 'string' || cron.trim() === '' || cron.length > 256) {
    throw new InvalidArgumentError('cron', 'expected a cron expression such as "0 9 * * 1-5".');
  }
  try {
    // CronPattern, not Cron: Cron also takes an ISO date as a one-off "pattern".
    new CronPattern(cron.trim(), 'UTC');
  } catch (err) {
    throw new InvalidArgumentError(
      'cron',
      `"${cron}" is not a valid cron expression: ${(err as Error).message}`,
    );
  }
  return cron.trim();
}

/** The zone's canonical name (Intl knows the zones croner does, and accepts any letter case). */
function checkZone(tz: unknown): string {
  try {
    if (typeof tz !== 'string') throw new TypeError('not a string');
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw new InvalidArgumentError(
      'tz',
      `expected an IANA time zone such as 'Europe/Paris', got ${JSON.stringify(tz)}.`,
    );
  }
}
