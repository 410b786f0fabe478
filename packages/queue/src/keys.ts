import { InvalidArgumentError, type Keyspace } from '@redis-patterns/connection';
import type { JobState } from './jobs.js';

/**
 * Every Redis key of the queue, in one place. The Lua scripts are in src/lua/, each with what it
 * takes and returns at the top of its file (src/lua/lib holds the server-clock `now` prelude and the
 * retention-zset `trim` they share); src/commands/ sends them.
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
