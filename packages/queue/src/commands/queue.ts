import type { RedisConnection } from '@redis-patterns/connection';
import type { EncodedJob, QueueCounts } from '../jobs.js';
import type { QueueKeys } from '../keys.js';
import { scripts } from '../lua.generated.js';

// What a queue handle sends: adds, and the inspect and repair calls.

/** Adds jobs in one script call; per job, true if it was new, false if its id existed already. */
export async function addJobs(
  conn: RedisConnection,
  keys: QueueKeys,
  jobs: readonly EncodedJob[],
): Promise<boolean[]> {
  const flags = await conn.runScript<number[]>(
    scripts.add,
    [keys.waiting, keys.delayed, keys.stats, keys.jobPrefix],
    jobs.flat(),
  );
  return jobs.map((_, i) => flags[i] === 1);
}

/** One job's hash fields and where it is. */
export interface InspectedJob {
  /** HGETALL's flat array. */
  fields: Array<string | null>;
  /** Its score in `delayed` (when it is due), or null. */
  delayedAt: string | null;
  /** Its score in `dead` (when it died), or null. */
  deadAt: string | null;
  /** Its score in `done` (when it completed, if kept), or null. */
  doneAt: string | null;
  /** Leased, or parked in `active` by a BLMOVE. */
  active: boolean;
}

/** One job's hash and where it is, read in one script; null when there is no such job. */
export async function inspectJob(
  conn: RedisConnection,
  keys: QueueKeys,
  id: string,
): Promise<InspectedJob | null> {
  const reply = await conn.runScript<
    [Array<string | null>, string | null, string | null, string | null, number] | null
  >(scripts.inspect, [keys.leases, keys.active, keys.delayed, keys.dead, keys.done, keys.jobPrefix], [id], {
    readonly: true,
  });
  if (reply === null) return null;
  const [fields, delayedAt, deadAt, doneAt, active] = reply;
  return { fields, delayedAt, deadAt, doneAt, active: active === 1 };
}

/** Sizes and counters, read in one script. */
export async function countJobs(conn: RedisConnection, keys: QueueKeys): Promise<QueueCounts> {
  const r = await conn.runScript<Array<number | string | null>>(
    scripts.counts,
    [keys.waiting, keys.leases, keys.active, keys.delayed, keys.dead, keys.stats],
    [],
    { readonly: true },
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
}

/** A job `peek` listed: its hash fields (empty if it vanished meanwhile) and its score in a zset. */
export interface PeekedJob {
  id: string;
  fields: Array<string | null>;
  score: string | null;
}

/** The first `count` jobs of `source`, read as `kind` orders it (see peekSource). */
export async function peekJobs(
  conn: RedisConnection,
  keys: QueueKeys,
  [source, kind]: [string, 'list' | 'zset' | 'zsetrev'],
  count: number,
): Promise<PeekedJob[]> {
  const flat = await conn.runScript<Array<string | Array<string | null> | null>>(
    scripts.peek,
    [source, keys.jobPrefix],
    [kind, String(count)],
    { readonly: true },
  );
  const jobs: PeekedJob[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    jobs.push({
      id: String(flat[i]),
      fields: flat[i + 1] as Array<string | null>,
      score: flat[i + 2] as string | null,
    });
  }
  return jobs;
}

/** Moves the given dead jobs (or, with none given, the oldest `limit`) to waiting; returns how many. */
export function retryDeadJobs(
  conn: RedisConnection,
  keys: QueueKeys,
  ids: readonly string[],
  limit = ids.length,
): Promise<number> {
  return conn.runScript<number>(
    scripts.retryDead,
    [keys.dead, keys.waiting, keys.jobPrefix],
    [String(limit), ...ids],
  );
}

/** Removes up to `limit` jobs of one state with their hashes; returns how many. */
export function purgeJobs(
  conn: RedisConnection,
  keys: QueueKeys,
  source: { key: string; kind: 'list' | 'zset'; countAsDiscarded: boolean },
  limit: number,
): Promise<number> {
  return conn.runScript<number>(
    scripts.purge,
    [source.key, keys.stats, keys.jobPrefix],
    [source.kind, String(limit), source.countAsDiscarded ? '1' : '0'],
  );
}

/** Deletes every key matching `pattern` (all of one queue's keys); returns how many. */
export async function deleteQueueKeys(conn: RedisConnection, pattern: string): Promise<number> {
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
