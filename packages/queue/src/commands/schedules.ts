import { createHash } from 'node:crypto';
import type { RedisConnection } from '@redis-patterns/connection';
import { baseKeys, type QueueKeys } from '../keys.js';
import { scripts } from '../lua.generated.js';

// What schedules send: the upsert's read and compare-and-set write, removal, listing, and the
// schedulers' read of due schedules and their fire.

const scheduleKeys = (keys: QueueKeys) => [keys.schedules, keys.scheduleNext];

const dueOrNull = (score: string | null | undefined) => (score == null ? null : Number(score));

/** One schedule as stored: its spec text and next due time (null: none, or no such schedule). */
export interface StoredSchedule {
  id: string;
  spec: string;
  next: number | null;
}

/** One schedule (spec null when there is none) with the server time it was read at. */
export async function readSchedule(
  conn: RedisConnection,
  keys: QueueKeys,
  id: string,
): Promise<{ now: number; spec: string | null; next: number | null }> {
  const [now, spec, next] = await conn.runScript<[number, string | null, string | null]>(
    scripts.scheduleRead,
    scheduleKeys(keys),
    [id],
  );
  return { now: Number(now), spec, next: dueOrNull(next) };
}

/**
 * Writes a schedule's spec and next due time (null: none) if its spec is still `read` (null: none)
 * and, for an update, the due time is still in the future; false otherwise (the caller reads again).
 */
export async function writeSchedule(
  conn: RedisConnection,
  keys: QueueKeys,
  id: string,
  read: string | null,
  spec: string,
  next: number | null,
): Promise<boolean> {
  const written = await conn.runScript<number>(scripts.scheduleWrite, scheduleKeys(keys), [
    id,
    read ?? '',
    spec,
    next === null ? '' : String(next),
  ]);
  return written === 1;
}

/** Deletes a schedule; false when there was none. */
export async function removeSchedule(conn: RedisConnection, keys: QueueKeys, id: string): Promise<boolean> {
  return (await conn.runScript<number>(scripts.scheduleRemove, scheduleKeys(keys), [id])) === 1;
}

/** One HSCAN page of schedules from `cursor`; cursor '0' in the reply means the end. */
export async function listSchedulePage(
  conn: RedisConnection,
  keys: QueueKeys,
  cursor: string,
  count: number,
): Promise<{ cursor: string; schedules: StoredSchedule[] }> {
  const flat = await conn.runScript<Array<string | null>>(
    scripts.scheduleList,
    scheduleKeys(keys),
    [cursor, String(count)],
    { readonly: true },
  );
  const schedules: StoredSchedule[] = [];
  for (let i = 1; i + 2 < flat.length; i += 3) {
    schedules.push({ id: String(flat[i]), spec: String(flat[i + 1]), next: dueOrNull(flat[i + 2]) });
  }
  return { cursor: String(flat[0]), schedules };
}

/** What a scheduler's read found: server time, due schedules, and the next due time after now. */
export interface DueSchedules {
  now: number;
  /** The earliest due time after `now` among schedules not due yet, or null. */
  nextDue: number | null;
  /** Due schedules with their spec text and due time, earliest first. */
  due: Array<{ id: string; spec: string; due: number }>;
}

/** Up to `limit` schedules due at the server's time. */
export async function dueSchedules(
  conn: RedisConnection,
  keys: QueueKeys,
  limit: number,
): Promise<DueSchedules> {
  const flat = await conn.runScript<Array<number | string | null>>(scripts.scheduleDue, scheduleKeys(keys), [
    String(limit),
  ]);
  const due: DueSchedules['due'] = [];
  for (let i = 2; i + 2 < flat.length; i += 3) {
    due.push({ id: String(flat[i]), due: Number(flat[i + 1]), spec: String(flat[i + 2]) });
  }
  return { now: Number(flat[0]), nextDue: dueOrNull(flat[1] as string | null), due };
}

/** One fire of schedule-fire.lua: what was read, and what to do if it still holds. */
export interface Fire {
  id: string;
  due: number;
  spec: string;
  enqueue: boolean;
  /** The job's encoded data, priority and group (jobs.ts encodeJob). */
  data: string;
  priority: string;
  group: string;
  next: number | null;
}

/** Applies a fire if the schedule is still due at `fire.due` with `fire.spec`. */
export async function fireSchedule(
  conn: RedisConnection,
  keys: QueueKeys,
  fire: Fire,
): Promise<{ advanced: boolean; added: boolean }> {
  const [advanced, added] = await conn.runScript<[number, number]>(
    scripts.scheduleFire,
    [...baseKeys(keys), ...scheduleKeys(keys)],
    [
      fire.id,
      String(fire.due),
      createHash('sha1').update(fire.spec).digest('hex'),
      fire.enqueue ? '1' : '0',
      fire.data,
      fire.priority,
      fire.group,
      fire.next === null ? '' : String(fire.next),
    ],
  );
  return { advanced: advanced === 1, added: added === 1 };
}
