import type { Keyspace } from '@redis-patterns/connection';

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
 * - `prio`     zset id -> score: prioritized waiting jobs (lib/ready.lua has the score's layout)
 * - `config`   hash of settings every script reads (lib/base.lua): pause, limits, events' MAXLEN
 * - `rate`     the queue-wide rate limit's window counter
 * - `groups`   list: the rotation of groups that have waiting jobs and may run now
 * - `group:<g>` list per group, like `waiting`; `grate:<g>` its rate window counter
 * - `gactive`  hash group -> its jobs running; `gheld` zset group -> when it may run again
 * - `events`   the capped event stream (written only while `config.ev` is set)
 * - `schedules` hash schedule id -> its spec (JSON written by schedules.ts); `schednext` zset
 *              schedule id -> its next due time (ms, server clock), absent once it has ended
 * - `job:<id>` hash: d "attempts[:timeoutMs]|backoff|payload" (written once, by HSETNX), n attempts
 *              made, s stalls, e last error, dr dead reason, f finish time, r result (kept jobs
 *              only), p priority, g group, pg progress, cx cancel requested; with telemetry on the
 *              producer, t when it became runnable and tc its trace context (lib/stamp.lua)
 *
 * The empty id is a wake marker: a job added anywhere but `waiting` leaves it on an empty waiting
 * list so that a worker blocked in BLMOVE there wakes up and fetches.
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
  prio: string;
  config: string;
  rate: string;
  groups: string;
  /** A group's waiting list is this plus its name. */
  groupPrefix: string;
  /** A group's rate window counter is this plus its name. */
  groupRatePrefix: string;
  gactive: string;
  gheld: string;
  events: string;
  /** The sharded pub/sub channel on which running jobs' cancellations are announced. */
  cancelChannel: string;
  /** Hash schedule id -> spec (see schedules.ts). */
  schedules: string;
  /** Zset schedule id -> next due time. */
  scheduleNext: string;
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
    prio: key('prio'),
    config: key('config'),
    rate: key('rate'),
    groups: key('groups'),
    groupPrefix: `${key('group')}:`,
    groupRatePrefix: `${key('grate')}:`,
    gactive: key('gactive'),
    gheld: key('gheld'),
    events: key('events'),
    cancelChannel: key('cancel'),
    schedules: key('schedules'),
    scheduleNext: key('schednext'),
  };
}

/** The key block every job-moving script takes first, in lib/base.lua's order. */
export function baseKeys(k: QueueKeys): string[] {
  return [
    k.waiting,
    k.prio,
    k.delayed,
    k.stats,
    k.jobPrefix,
    k.groups,
    k.groupPrefix,
    k.gheld,
    k.events,
    k.config,
    k.rate,
    k.groupRatePrefix,
    k.gactive,
  ];
}
