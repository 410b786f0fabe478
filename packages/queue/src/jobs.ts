import { randomUUID } from 'node:crypto';
import { checkKeyPart, InvalidArgumentError, jsonSerializer } from '@redis-patterns/connection';
import { serializeText } from '@redis-patterns/connection/internal';
import { checkJobOptions, encodeBackoff, type JobOptions, type ResolvedQueueOptions } from './options.js';

/** Where a job is. */
export type JobState = 'waiting' | 'active' | 'delayed' | 'dead' | 'completed';

/** Sizes and lifetime counters of a queue, read in one atomic step. */
export interface QueueCounts {
  /** Ready to run, not taken yet. */
  waiting: number;
  /** Taken by a worker and not finished yet. */
  active: number;
  /** Waiting for their time (delayed adds and retries in backoff). */
  delayed: number;
  /** In the dead-letter set (kept per `keepDead`). */
  dead: number;
  /** Jobs ever completed. */
  completed: number;
  /** Failed runs ever (a job retried twice counts twice). */
  failed: number;
  /** Times a job was rescued from a worker that stopped renewing its lease. */
  stalled: number;
  /** Jobs ever added (duplicates not counted). */
  added: number;
  /** Jobs removed unfinished: purged, removed, or dead jobs beyond `keepDead`. */
  discarded: number;
  /** Of the waiting jobs, those with a priority. */
  prioritized: number;
  /** Of the waiting jobs, those in a group. */
  grouped: number;
  /** Whether the queue is paused. */
  paused: boolean;
}

/** A job as `get` and `peek` see it. Times are epoch milliseconds on the Redis server's clock. */
export interface JobInfo<T = unknown> {
  /** The job's id (given at add, or a random UUID). */
  id: string;
  /** Where it is now. */
  state: JobState;
  /** What was added, deserialized. */
  payload: T;
  /** Failed runs so far (stalls are counted apart). */
  attemptsMade: number;
  /** Runs allowed in total (the job's `attempts`). */
  maxAttempts: number;
  /** Times a worker lost the job (crash, kill, expired lease) and it was put back. */
  stalls: number;
  /** The last failure's `name: message`. */
  lastError?: string;
  /** Why a dead job died: its attempts failed, it stalled more than `maxStalls` times, or it was cancelled. */
  deadReason?: 'failed' | 'stalled' | 'cancelled';
  /** Its priority, if above 0. */
  priority?: number;
  /** Its group, if any. */
  group?: string;
  /** The last progress its handler reported. */
  progress?: unknown;
  /** Each attempt's time limit, if set. */
  timeoutMs?: number;
  /** A cancellation was asked for while it ran. */
  cancelRequested?: boolean;
  /** When a delayed job becomes due. */
  runAt?: number;
  /** When a dead or kept completed job finished. */
  finishedAt?: number;
  /** A kept completed job's return value. */
  result?: unknown;
}

/** The result of adding one job. */
export interface AddResult {
  /** The job's id: the one given, or the generated UUID. */
  id: string;
  /** False when a job with this id existed already (nothing was written). */
  added: boolean;
}

/** One job's ARGV for the add script: id, data (see {@link decodeJobData}), delayMs, priority, group. */
export type EncodedJob = [string, string, string, string, string];

/** Validates and serializes one job; throws {@link InvalidArgumentError} before anything is sent. */
export function encodeJob(
  at: string,
  payload: unknown,
  options: JobOptions | undefined,
  resolved: ResolvedQueueOptions,
): EncodedJob {
  // undefined means defaults; null is refused like any other wrong type (a null id would silently
  // become a random one, and the add would lose its idempotency).
  const opts = options === undefined ? {} : options;
  checkJobOptions(`${at}options`, opts);
  const id = opts.id === undefined ? randomUUID() : opts.id;
  checkKeyPart(`${at}options.id`, id);
  const text = serialize(`${at}payload`, payload, resolved);
  const attempts = opts.attempts ?? resolved.attempts;
  const backoff = attempts > 1 ? encodeBackoff(opts.backoff ?? resolved.backoff) : '';
  const delayMs = Math.ceil(opts.delayMs ?? resolved.delayMs);
  const timeoutMs = opts.timeoutMs ?? resolved.timeoutMs;
  const head = timeoutMs === undefined ? String(attempts) : `${attempts}:${Math.ceil(timeoutMs)}`;
  const priority = opts.group === undefined ? (opts.priority ?? resolved.priority) : 0;
  const group = opts.group ?? '';
  return [id, `${head}|${backoff}|${text}`, String(delayMs), String(priority), group];
}

/** The parts of a job's `d` field, written once at add: `attempts[:timeoutMs]|backoff|payload`. */
export interface JobData {
  attempts: number;
  /** Each attempt's time limit, if any. */
  timeoutMs: number | undefined;
  /** Encoded backoff (`f:<ms>` or `e:<ms>:<max>`), or null without retries. */
  backoff: string | null;
  payload: string;
}

/** Splits a job's `d` field into its parts. */
export function decodeJobData(data: string): JobData {
  const first = data.indexOf('|');
  const second = data.indexOf('|', first + 1);
  const backoff = data.slice(first + 1, second);
  const [attempts = '1', timeoutMs] = data.slice(0, first).split(':');
  return {
    attempts: Number(attempts),
    timeoutMs: timeoutMs === undefined ? undefined : Number(timeoutMs),
    backoff: backoff === '' ? null : backoff,
    payload: data.slice(second + 1),
  };
}

function serialize(at: string, payload: unknown, resolved: ResolvedQueueOptions): string {
  // JSON.stringify answers undefined, rather than throwing, for what it cannot represent.
  const kind = typeof payload;
  if (
    resolved.serializer === jsonSerializer &&
    (kind === 'undefined' || kind === 'function' || kind === 'symbol')
  ) {
    throw new InvalidArgumentError(
      at,
      'serializes to undefined, not a string (undefined, functions and symbols have no JSON form; use null).',
    );
  }
  const text = serializeText(resolved.serializer, at, payload);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > resolved.maxPayloadBytes) {
    throw new InvalidArgumentError(
      at,
      `is ${bytes} bytes serialized; the limit is ${resolved.maxPayloadBytes} (maxPayloadBytes). Store large data elsewhere and enqueue a reference.`,
    );
  }
  return text;
}

/** Reads a job hash (HGETALL's flat array) into a {@link JobInfo}. */
export function parseJobInfo<T>(
  id: string,
  state: JobState,
  flat: Array<string | null>,
  deserialize: (text: string) => unknown,
  score: string | null,
): JobInfo<T> {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(String(flat[i]), String(flat[i + 1]));
  const data = decodeJobData(hash.get('d') ?? '1||null');
  const info: JobInfo<T> = {
    id,
    state,
    payload: deserialize(data.payload) as T,
    attemptsMade: Number(hash.get('n') ?? 0),
    maxAttempts: data.attempts,
    stalls: Number(hash.get('s') ?? 0),
  };
  const lastError = hash.get('e');
  if (lastError !== undefined) info.lastError = lastError;
  const deadReason = hash.get('dr');
  if (deadReason === 'failed' || deadReason === 'stalled' || deadReason === 'cancelled') {
    info.deadReason = deadReason;
  }
  const priority = hash.get('p');
  if (priority !== undefined) info.priority = Number(priority);
  const group = hash.get('g');
  if (group !== undefined) info.group = group;
  const progress = hash.get('pg');
  if (progress !== undefined) info.progress = deserialize(progress);
  if (data.timeoutMs !== undefined) info.timeoutMs = data.timeoutMs;
  if (hash.has('cx')) info.cancelRequested = true;
  if (state === 'delayed' && score !== null) info.runAt = Number(score);
  const finishedAt = hash.get('f');
  if (finishedAt !== undefined) info.finishedAt = Number(finishedAt);
  const result = hash.get('r');
  if (result !== undefined && result !== '') info.result = deserialize(result);
  return info;
}
