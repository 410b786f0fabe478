import { defineScript, InvalidArgumentError, type Keyspace } from '@redis-patterns/connection';
import type { JobState } from './jobs.js';
import { lua } from './lua.generated.js';

/**
 * Every Redis key and Lua script of the queue, in one place. The scripts are in src/lua/, each with
 * what it takes and returns at the top of its file; src/commands/ sends them.
 *
 * Layout of queue `q` (all keys share the `{q}` hash tag, so every script runs on one Cluster node):
 * - `waiting`  list of ids; producers LPUSH, workers take from the right (FIFO)
 * - `leases`   zset id -> lease deadline (ms, server clock): the jobs being processed
 * - `owners`   hash id -> token of the worker holding the lease
 * - `active`   list of ids a blocked worker's BLMOVE took and has not leased yet
 * - `orphans`  hash id -> first time seen in `active` (see `rescue`)
 * - `delayed`  zset id -> due time (delayed adds and retries in backoff)
 * - `dead`     zset id -> time it died (attempts exhausted or stalled too often)
 * - `done`     zset id -> finish time, only when completed jobs are kept
 * - `stats`    hash of counters: added, completed, failed, stalled, discarded
 * - `job:<id>` hash: d "attempts|backoff|payload" (written once, by HSETNX), n attempts made,
 *              s stalls, e last error, dr dead reason, f finish time, r result (kept jobs only)
 *
 * A non-blocking fetch pops ids from waiting straight into `leases` inside one script, so a job in
 * flight is one zset member and one owners field: acks and renewals are a few multi-member commands
 * per batch instead of an O(n) LREM per job. Only BLMOVE (which cannot run in a script) parks an id in
 * the `active` list, for the instant until the worker's next script leases it.
 *
 * Job hashes are addressed as `KEYS[jobPrefix] .. id`: the fetching scripts only learn ids inside
 * Redis, and the prefix carries the queue's hash tag, so those keys are in the same slot.
 */
export interface QueueKeys {
  waiting: string;
  leases: string;
  owners: string;
  active: string;
  orphans: string;
  delayed: string;
  dead: string;
  done: string;
  stats: string;
  /** `<prefix>{q}:job:`; a job's hash is this plus its id. */
  jobPrefix: string;
}

/** The keys of queue `name` in `keyspace`. */
export function queueKeys(keyspace: Keyspace, name: string): QueueKeys {
  const key = (part: string) => keyspace.key(name, part);
  return {
    waiting: key('waiting'),
    leases: key('leases'),
    owners: key('owners'),
    active: key('active'),
    orphans: key('orphans'),
    delayed: key('delayed'),
    dead: key('dead'),
    done: key('done'),
    stats: key('stats'),
    jobPrefix: `${key('job')}:`,
  };
}

// The queue's Lua scripts (src/lua/<name>.lua; src/lua/lib holds the server-clock `now` prelude and
// the retention-zset `trim` they share).

/** Adds jobs, idempotently per id (src/lua/add.lua). */
export const addScript = defineScript('queueAdd', lua.add);

/** The worker's one round trip: settle, lease the BLMOVE'd id, fetch more (src/lua/exchange.lua). */
export const exchangeScript = defineScript('queueExchange', lua.exchange);

/** Extends the leases this worker still owns (src/lua/renew.lua). */
export const renewScript = defineScript('queueRenew', lua.renew);

/** A stopping worker returns its unfinished jobs to waiting (src/lua/release.lua). */
export const releaseScript = defineScript('queueRelease', lua.release);

/** The stalled-job check: expired leases and orphaned BLMOVEs (src/lua/rescue.lua). */
export const rescueScript = defineScript('queueRescue', lua.rescue);

/** Moves due delayed jobs to the front of waiting (src/lua/promote.lua). */
export const promoteScript = defineScript('queuePromote', lua.promote);

/** One consistent snapshot of the queue's sizes and counters (src/lua/counts.lua). */
export const countsScript = defineScript('queueCounts', lua.counts);

/** One job's hash and where it is (src/lua/inspect.lua). */
export const inspectScript = defineScript('queueInspect', lua.inspect);

/** The first jobs of one state with their hashes (src/lua/peek.lua). */
export const peekScript = defineScript('queuePeek', lua.peek);

/** Gives dead jobs a fresh set of attempts (src/lua/retry-dead.lua). */
export const retryDeadScript = defineScript('queueRetryDead', lua.retryDead);

/** Removes up to `limit` jobs of one state with their hashes (src/lua/purge.lua). */
export const purgeScript = defineScript('queuePurge', lua.purge);

/** Where `peek(state)` reads: the key, and how it is ordered. */
export function peekSource(keys: QueueKeys, state: JobState): [string, 'list' | 'zset' | 'zsetrev'] {
  switch (state) {
    case 'waiting':
      return [keys.waiting, 'list'];
    case 'active':
      return [keys.leases, 'zset'];
    case 'delayed':
      return [keys.delayed, 'zset'];
    case 'dead':
      return [keys.dead, 'zsetrev'];
    case 'completed':
      return [keys.done, 'zsetrev'];
    default:
      throw new InvalidArgumentError(
        'state',
        "expected 'waiting', 'active', 'delayed', 'dead' or 'completed'.",
      );
  }
}
