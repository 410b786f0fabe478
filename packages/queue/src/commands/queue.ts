import type { RedisConnection } from '@redis-patterns/connection';
import type { EncodedJob, QueueCounts } from '../jobs.js';
import { baseKeys, type QueueKeys } from '../keys.js';
import { scripts } from '../lua.generated.js';
import type { ResolvedRetention } from '../options.js';

// What a queue handle sends: adds, and the inspect and repair calls.

/** Adds jobs in one script call; per job, true if it was new, false if its id existed already. */
export async function addJobs(
  conn: RedisConnection,
  keys: QueueKeys,
  jobs: readonly EncodedJob[],
  trace = '',
): Promise<boolean[]> {
  const flags = await conn.runScript<number[]>(scripts.add, baseKeys(keys), [trace, ...jobs.flat()]);
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
    [...baseKeys(keys), keys.leases, keys.active, keys.dead],
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
    prioritized: n(9),
    grouped: n(10),
    paused: n(11) === 1,
  };
}

/** A job `list` returned: its hash fields (empty if it vanished meanwhile) and its score in a zset. */
export interface ListedJob {
  id: string;
  fields: Array<string | null>;
  score: string | null;
}

/** One page of the jobs of `state`, from position `offset` (see src/lua/list.lua for the orders). */
export async function listJobs(
  conn: RedisConnection,
  keys: QueueKeys,
  state: 'waiting' | 'active' | 'delayed' | 'dead' | 'completed',
  offset: number,
  count: number,
): Promise<ListedJob[]> {
  const flat = await conn.runScript<Array<string | Array<string | null> | null>>(
    scripts.list,
    [...baseKeys(keys), keys.leases, keys.dead, keys.done],
    [state, String(offset), String(count)],
    { readonly: true },
  );
  const jobs: ListedJob[] = [];
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
  return conn.runScript<number>(scripts.retryDead, [...baseKeys(keys), keys.dead], [String(limit), ...ids]);
}

/** Removes up to `limit` jobs of one state with their hashes (waiting: all kinds); returns how many. */
export function purgeJobs(
  conn: RedisConnection,
  keys: QueueKeys,
  source: { key: string; kind: 'waiting' | 'zset'; countAsDiscarded: boolean },
  limit: number,
): Promise<number> {
  return conn.runScript<number>(
    scripts.purge,
    [...baseKeys(keys), source.key],
    [source.kind, String(limit), source.countAsDiscarded ? '1' : '0'],
  );
}

/** Sets (or, for '', removes) fields of the queue's `config` hash: pause, limits, events. */
export async function configureQueue(
  conn: RedisConnection,
  keys: QueueKeys,
  fields: Record<string, string>,
): Promise<void> {
  await conn.runScript<number>(scripts.configure, baseKeys(keys), Object.entries(fields).flat());
}

/** The fields of the `config` hash (lib/base.lua reads the same). */
const CONFIG_FIELDS = ['ev', 'paused', 'c', 'rm', 'ri', 'gc', 'grm', 'gri'] as const;

/** The queue's `config` hash as stored. */
export async function readConfig(conn: RedisConnection, keys: QueueKeys): Promise<Record<string, string>> {
  // HMGET of the known fields: its reply has one shape on every client and protocol.
  const values = await conn.send<Array<string | null>>(['HMGET', keys.config, ...CONFIG_FIELDS], {
    key: keys.config,
    readonly: true,
  });
  const config: Record<string, string> = {};
  CONFIG_FIELDS.forEach((field, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) config[field] = String(value);
  });
  return config;
}

/** Removes a job that is not running; see src/lua/remove.lua. */
export function removeJob(
  conn: RedisConnection,
  keys: QueueKeys,
  id: string,
): Promise<'removed' | 'active' | 'missing'> {
  return conn.runScript(
    scripts.remove,
    [...baseKeys(keys), keys.leases, keys.active, keys.dead, keys.done],
    [id],
  );
}

/** Cancels a job; see src/lua/cancel.lua. */
export function cancelJob(
  conn: RedisConnection,
  keys: QueueKeys,
  id: string,
  keepDead: ResolvedRetention,
): Promise<'cancelled' | 'cancelling' | 'finished' | 'missing'> {
  return conn.runScript(
    scripts.cancel,
    [...baseKeys(keys), keys.leases, keys.active, keys.dead, keys.done],
    [id, keys.cancelChannel, String(keepDead.count), String(keepDead.ageMs)],
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
