import type { RedisConnection } from '@redis-patterns/connection';
import { baseKeys, type QueueKeys } from '../keys.js';
import { scripts } from '../lua.generated.js';
import type { ResolvedRetention } from '../options.js';
import type { Settlement } from '../running-job.js';

// A worker's scripts: its exchange, lease renewals and releases, and the housekeeping any worker runs.

/** What one worker round trip sends: outcomes to settle and how many jobs to lease. */
export interface ExchangeRequest {
  token: string;
  leaseMs: number;
  /** Jobs to lease from waiting; 0 to only settle (or claim). */
  want: number;
  /** The id this worker's BLMOVE parked in `active`, to lease now ('' for the wake marker). */
  claim: string | undefined;
  keepCompleted: ResolvedRetention;
  keepDead: ResolvedRetention;
  settle: ReadonlyArray<Settlement<unknown>>;
}

/** A job leased by an exchange: its id, its `d` field (see decodeJobData), its failed runs so far, and where it waits when retried. */
export interface LeasedJob {
  id: string;
  data: string;
  failures: number;
  /** Its priority ('' for none). */
  priority: string;
  /** Its group ('' for none). */
  group: string;
  /** Times it was rescued from a worker that stopped renewing its lease. */
  stalls: number;
  /** Ms since it became runnable, when its producer had telemetry (see lib/stamp.lua). */
  lagMs: number | undefined;
  /** Its producer's trace context (JSON), if the add was traced. */
  trace: string | undefined;
}

/** What one worker round trip answers. */
export interface ExchangeReply {
  /** Settled ids whose lease had gone to another worker: their outcomes were dropped. */
  lost: string[];
  /** The jobs leased (the claimed one included). */
  leased: LeasedJob[];
  /** How many ids were taken from the plain waiting list (the claimed one not counted). */
  fetched: number;
  /**
   * Why fewer jobs were leased than asked for, if the queue held them back: -1 paused, -2 at the
   * queue-wide concurrency limit, > 0 ms until a rate window lets more run; 0 otherwise.
   */
  hold: number;
}

/** The worker's one round trip: settles finished jobs, leases the claimed id and fetches more. */
export async function exchange(
  conn: RedisConnection,
  keys: QueueKeys,
  request: ExchangeRequest,
): Promise<ExchangeReply> {
  const { settle, keepCompleted, keepDead } = request;
  const args = [
    request.token,
    String(request.leaseMs),
    String(request.want),
    request.claim === undefined ? '' : `=${request.claim}`,
    String(keepCompleted.count),
    String(keepCompleted.ageMs),
    String(keepDead.count),
    String(keepDead.ageMs),
    String(settle.length),
  ];
  for (const s of settle) {
    args.push(s.run.job.id, s.outcome, s.text, String(s.delayMs), s.run.priority, s.run.group);
  }
  const [lost, flat, fetched, hold] = await conn.runScript<[string[], Array<string | null>, number, number]>(
    scripts.exchange,
    [...baseKeys(keys), keys.leases, keys.owners, keys.active, keys.dead, keys.done],
    args,
  );
  const leased: LeasedJob[] = [];
  // Eight entries per job: id, d, n (failures), s (stalls), p, g, lag, tc.
  for (let i = 0; i + 7 < flat.length; i += 8) {
    const lag = flat[i + 6];
    leased.push({
      id: String(flat[i]),
      data: String(flat[i + 1]),
      failures: Number(flat[i + 2] ?? 0),
      priority: flat[i + 4] ?? '',
      group: flat[i + 5] ?? '',
      stalls: Number(flat[i + 3] ?? 0),
      lagMs: lag == null ? undefined : Number(lag),
      trace: flat[i + 7] ?? undefined,
    });
  }
  return { lost, leased, fetched, hold };
}

/**
 * Extends the leases `token` still owns to server time + `leaseMs`; returns the ids it no longer
 * owns, and those of its jobs whose cancellation was asked for.
 */
export async function renewLeases(
  conn: RedisConnection,
  keys: QueueKeys,
  token: string,
  leaseMs: number,
  ids: readonly string[],
): Promise<{ lost: string[]; cancelled: string[] }> {
  const [lost, cancelled] = await conn.runScript<[string[], string[]]>(
    scripts.renew,
    [keys.leases, keys.owners, keys.jobPrefix],
    [token, String(leaseMs), ...ids],
  );
  return { lost, cancelled };
}

/** Records a running job's progress (and emits it); false when `token` no longer holds the job. */
export async function recordProgress(
  conn: RedisConnection,
  keys: QueueKeys,
  token: string,
  id: string,
  text: string,
): Promise<boolean> {
  const held = await conn.runScript<number>(
    scripts.progress,
    [...baseKeys(keys), keys.owners],
    [token, id, text],
  );
  return held === 1;
}

/**
 * Returns jobs to the front of waiting: `jobs` is flat (id, '1' for a job `token` leases | '0' for
 * an id its BLMOVE parked in `active`). Resolves to how many were still its own to give back.
 */
export function releaseJobs(
  conn: RedisConnection,
  keys: QueueKeys,
  token: string,
  jobs: readonly string[],
  timeoutMs?: number,
): Promise<number> {
  return conn.runScript<number>(
    scripts.release,
    [...baseKeys(keys), keys.leases, keys.owners, keys.active, keys.dead],
    [token, ...jobs],
    timeoutMs === undefined ? {} : { timeoutMs },
  );
}

/** What one stalled-job check did. */
export interface Rescue {
  /** Jobs put back in waiting, with their stall count. */
  requeued: Array<{ id: string; stalls: number }>;
  /** Jobs that stalled more than `maxStalls` times and went to the dead-letter set. */
  dead: string[];
}

/** The stalled-job check: expired leases and ids parked in `active` for `graceMs`, `limit` per call. */
export async function rescueStalled(
  conn: RedisConnection,
  keys: QueueKeys,
  check: { maxStalls: number; graceMs: number; keepDead: ResolvedRetention; limit: number },
): Promise<Rescue> {
  const [flat, dead] = await conn.runScript<[Array<string | number>, string[]]>(
    scripts.rescue,
    [...baseKeys(keys), keys.leases, keys.owners, keys.active, keys.orphans, keys.dead],
    [
      String(check.maxStalls),
      String(check.graceMs),
      String(check.keepDead.count),
      String(check.keepDead.ageMs),
      String(check.limit),
    ],
  );
  const requeued: Rescue['requeued'] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    requeued.push({ id: String(flat[i]), stalls: Number(flat[i + 1]) });
  }
  return { requeued, dead };
}

/** Moves up to `limit` due delayed jobs to waiting; `dueInMs` is when the next one is due (-1: none). */
export async function promoteDelayed(
  conn: RedisConnection,
  keys: QueueKeys,
  limit: number,
): Promise<{ moved: number; dueInMs: number }> {
  const [moved, dueInMs] = await conn.runScript<[number, number]>(scripts.promote, baseKeys(keys), [
    String(limit),
  ]);
  return { moved, dueInMs };
}
