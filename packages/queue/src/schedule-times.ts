import { Cron } from 'croner';
import type { ScheduleTiming } from './schedule-spec.js';

// The occurrence arithmetic every process must agree on: the upsert computes a schedule's first due
// time here, and every scheduler its next ones. Times are epoch ms on the Redis server's clock.

/** What one process does with a due occurrence (schedule-fire.lua applies it, or nothing if stale). */
export interface FirePlan {
  /** Enqueue the job `<scheduleId>:<dueMs>`. */
  enqueue: boolean;
  /** The schedule's next due time, or null when it has none before `endAt`. */
  next: number | null;
}

/** A late occurrence still runs (catching up) if it is at most this late, unless `missedAfterMs` says otherwise. */
export const MIN_MISSED_AFTER_MS = 1000;

// Parsed patterns, shared by every runner of the process: a tick would otherwise re-parse the cron
// expression of every due schedule. Cleared, not evicted one by one: more than this many distinct
// patterns in one process is rare, and re-parsing is cheap.
const CACHE_LIMIT = 1000;
const patterns = new Map<string, Cron>();

function cronOf(cron: string, tz: string): Cron {
  const key = `${tz}\n${cron}`;
  let found = patterns.get(key);
  if (found === undefined) {
    if (patterns.size >= CACHE_LIMIT) patterns.clear();
    // paused and without a callback: croner only computes, it starts no timer.
    found = new Cron(cron, { timezone: tz, paused: true });
    patterns.set(key, found);
  }
  return found;
}

/** The first cron occurrence strictly after `ms` (croner works in whole seconds), or null if none. */
export function cronAfter(cron: string, tz: string, ms: number): number | null {
  return cronOf(cron, tz).nextRun(new Date(ms))?.getTime() ?? null;
}

/**
 * The first occurrence strictly after `ms`, or null when there is none before `endAt`. An interval
 * keeps the phase of `anchor` (any past or future occurrence), so a schedule's runs stay on one grid
 * `anchor + k * everyMs` across catch-ups and skips.
 */
export function occurrenceAfter(t: ScheduleTiming, anchor: number, ms: number): number | null {
  let next: number | null;
  if (t.everyMs !== undefined) {
    next = anchor + (Math.floor((ms - anchor) / t.everyMs) + 1) * t.everyMs;
  } else {
    next = cronAfter(t.cron as string, t.tz as string, ms);
  }
  return next !== null && (t.endAt === undefined || next < t.endAt) ? next : null;
}

/**
 * The due time a schedule gets when it is written at server time `now`. A new schedule starts at
 * `startAt` (its first occurrence at or after it, even in the past: what was due since then is
 * handled by the missed policy at the first fire), or else at its first occurrence after `now`
 * (one interval from now for `everyMs`). A changed schedule restarts after `now`: an occurrence at
 * or before `now` may have run under the old spec, so it is never due again.
 */
export function firstOccurrence(t: ScheduleTiming, now: number, created: boolean): number | null {
  const { startAt, everyMs } = t;
  if (startAt !== undefined && (created || startAt > now)) {
    return occurrenceAfter(t, startAt, startAt - 1);
  }
  if (everyMs !== undefined) {
    if (startAt !== undefined) return occurrenceAfter(t, startAt, now);
    return t.endAt === undefined || now + everyMs < t.endAt ? now + everyMs : null;
  }
  return occurrenceAfter(t, now, now);
}

/**
 * Decides what to do with the occurrence due at `due`, seen at server time `now`. Within the
 * tolerance (`missedAfterMs`, by default the gap to the following occurrence and at least
 * {@link MIN_MISSED_AFTER_MS}) it runs and the schedule moves to the following occurrence, so a
 * scheduler that fell a little behind catches up one occurrence at a time. Beyond it, no scheduler
 * ran the schedule for that long (all were down or stopped): every occurrence up to `now` is missed,
 * `skip` drops them, `once` runs one job for them (the one due at `due`), and the schedule resumes at
 * its first occurrence after `now`.
 */
export function planFire(t: ScheduleTiming, due: number, now: number): FirePlan {
  const following = occurrenceAfter(t, due, due);
  const gap = following === null ? 0 : following - due;
  const tolerance = t.missedAfterMs ?? Math.max(gap, MIN_MISSED_AFTER_MS);
  if (now - due <= tolerance) return { enqueue: true, next: following };
  return { enqueue: t.missed === 'once', next: occurrenceAfter(t, due, now) };
}
