import { defineScript, type Keyspace } from '@redis-patterns/connection';

/**
 * Every Redis key and Lua script of the queue, in one place.
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

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** Drops the oldest entries of a retention zset beyond `count` (-1: no limit) or older than `ageMs`. */
const TRIM = `local function trim(zset, prefix, count, ageMs, now)
  local dropped = 0
  if count >= 0 then
    local excess = math.min(redis.call('ZCARD', zset) - count, 1000)
    if excess > 0 then
      local old = redis.call('ZPOPMIN', zset, excess)
      for j = 1, #old, 2 do redis.call('DEL', prefix .. old[j]) end
      dropped = dropped + #old / 2
    end
  end
  if ageMs > 0 then
    local old = redis.call('ZRANGEBYSCORE', zset, '-inf', now - ageMs, 'LIMIT', 0, 1000)
    for j = 1, #old do
      redis.call('ZREM', zset, old[j])
      redis.call('DEL', prefix .. old[j])
    end
    dropped = dropped + #old
  end
  return dropped
end`;

/**
 * Adds jobs. HSETNX writes a job only if its hash does not exist, which makes an add with a given id
 * idempotent: the check and the write are one step, so two producers cannot both add it.
 * KEYS: waiting, delayed, stats, jobPrefix. ARGV: (id, data, delayMs)*.
 * Returns 1 (added) or 0 (duplicate) per job.
 */
export const addJobs = defineScript(
  'queueAdd',
  `${NOW}
local added, ready, n = {}, {}, 0
for i = 1, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HSETNX', KEYS[4] .. id, 'd', ARGV[i + 1]) == 0 then
    added[#added + 1] = 0
  else
    local delay = tonumber(ARGV[i + 2])
    if delay > 0 then redis.call('ZADD', KEYS[2], now + delay, id) else ready[#ready + 1] = id end
    added[#added + 1] = 1
    n = n + 1
  end
end
if #ready > 0 then redis.call('LPUSH', KEYS[1], unpack(ready)) end
if n > 0 then redis.call('HINCRBY', KEYS[3], 'added', n) end
return added`,
);

/**
 * The worker's one round trip: settles finished jobs (ack, retry, dead letter), leases the id a
 * BLMOVE parked in `active` (if any), and takes up to `want` more jobs from waiting with their data.
 * Settling checks the owner first: a worker whose lease expired (and whose job went to someone
 * else) cannot ack or fail that other run.
 * KEYS: waiting, leases, owners, active, delayed, dead, done, stats, jobPrefix.
 * ARGV: token, leaseMs, want, claimId, keepDoneCount, keepDoneAgeMs, keepDeadCount, keepDeadAgeMs,
 *       settleCount, then (id, outcome done|retry|dead, text, delayMs) per settled job.
 * Returns { lost ids, flat (id, d, n, s) per leased job, ids popped from waiting }.
 */
export const exchange = defineScript(
  'queueExchange',
  `${NOW}
${TRIM}
local waiting, leases, owners, active, delayed, dead, done, stats, prefix =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local token, settleCount = ARGV[1], tonumber(ARGV[9])
local lost = {}
if settleCount > 0 then
  local ids = {}
  for k = 0, settleCount - 1 do ids[#ids + 1] = ARGV[10 + 4 * k] end
  local holders = redis.call('HMGET', owners, unpack(ids))
  local keepDone = tonumber(ARGV[5])
  local finished, doneKeys, kept, completed, failed, buried = {}, {}, {}, 0, 0, 0
  for k = 1, settleCount do
    local id, base = ids[k], 10 + 4 * (k - 1)
    if holders[k] ~= token then
      lost[#lost + 1] = id
    else
      finished[#finished + 1] = id
      local outcome, text, delay, job = ARGV[base + 1], ARGV[base + 2], tonumber(ARGV[base + 3]), prefix .. id
      if outcome == 'done' then
        completed = completed + 1
        if keepDone == 0 then
          doneKeys[#doneKeys + 1] = job
        else
          redis.call('HSET', job, 'f', now, 'r', text)
          kept[#kept + 1] = now
          kept[#kept + 1] = id
        end
      else
        failed = failed + 1
        redis.call('HINCRBY', job, 'n', 1)
        if outcome == 'retry' then
          redis.call('HSET', job, 'e', text)
          if delay > 0 then redis.call('ZADD', delayed, now + delay, id) else redis.call('LPUSH', waiting, id) end
        else
          redis.call('HSET', job, 'e', text, 'dr', 'failed', 'f', now)
          redis.call('ZADD', dead, now, id)
          buried = buried + 1
        end
      end
    end
  end
  if #finished > 0 then
    redis.call('ZREM', leases, unpack(finished))
    redis.call('HDEL', owners, unpack(finished))
  end
  if #doneKeys > 0 then redis.call('DEL', unpack(doneKeys)) end
  if completed > 0 then redis.call('HINCRBY', stats, 'completed', completed) end
  if #kept > 0 then
    redis.call('ZADD', done, unpack(kept))
    trim(done, prefix, keepDone, tonumber(ARGV[6]), now)
  end
  if failed > 0 then redis.call('HINCRBY', stats, 'failed', failed) end
  if buried > 0 then
    local dropped = trim(dead, prefix, tonumber(ARGV[7]), tonumber(ARGV[8]), now)
    if dropped > 0 then redis.call('HINCRBY', stats, 'discarded', dropped) end
  end
end

local jobs, leaseArgs, ownerArgs, deadline = {}, {}, {}, now + tonumber(ARGV[2])
local function lease(id)
  local f = redis.call('HMGET', prefix .. id, 'd', 'n', 's')
  if not f[1] then return end -- purged while it waited
  leaseArgs[#leaseArgs + 1] = deadline
  leaseArgs[#leaseArgs + 1] = id
  ownerArgs[#ownerArgs + 1] = id
  ownerArgs[#ownerArgs + 1] = token
  jobs[#jobs + 1] = id
  jobs[#jobs + 1] = f[1]
  jobs[#jobs + 1] = f[2]
  jobs[#jobs + 1] = f[3]
end
-- A BLMOVE'd id is leased only if still parked: after a long pause the rescue may have moved it.
local claim = ARGV[4]
if claim ~= '' and redis.call('LREM', active, -1, claim) > 0 then lease(claim) end
local popped = 0
if tonumber(ARGV[3]) > 0 then
  local ids = redis.call('RPOP', waiting, ARGV[3])
  if ids then
    popped = #ids
    for _, id in ipairs(ids) do lease(id) end
  end
end
if #leaseArgs > 0 then
  redis.call('ZADD', leases, unpack(leaseArgs))
  redis.call('HSET', owners, unpack(ownerArgs))
end
return { lost, jobs, popped }`,
);

/**
 * Extends the leases this worker still owns. KEYS: leases, owners. ARGV: token, leaseMs, ids...
 * Returns the ids it no longer owns (rescued after an expiry, or released).
 */
export const renewLeases = defineScript(
  'queueRenew',
  `${NOW}
local ids, deadline, args, lost = {}, now + tonumber(ARGV[2]), {}, {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local holders = redis.call('HMGET', KEYS[2], unpack(ids))
for k, id in ipairs(ids) do
  if holders[k] == ARGV[1] then
    args[#args + 1] = deadline
    args[#args + 1] = id
  else
    lost[#lost + 1] = id
  end
end
if #args > 0 then redis.call('ZADD', KEYS[1], unpack(args)) end
return lost`,
);

/**
 * Returns jobs a stopping worker did not finish to the front of waiting, without counting a stall.
 * KEYS: waiting, leases, owners, active. ARGV: token, (id, leased 1|0)*; an unleased id is one a
 * BLMOVE parked during the stop. Returns how many were released.
 */
export const releaseJobs = defineScript(
  'queueRelease',
  `local released = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local mine
  if ARGV[i + 1] == '1' then
    mine = redis.call('HGET', KEYS[3], id) == ARGV[1]
    if mine then
      redis.call('ZREM', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
    end
  else
    mine = redis.call('LREM', KEYS[4], -1, id) > 0
  end
  if mine then
    redis.call('RPUSH', KEYS[1], id)
    released = released + 1
  end
end
return released`,
);

/**
 * The stalled-job check any worker runs: expired leases go back to the front of waiting, and so do
 * ids parked in `active` for `graceMs` (their worker died between BLMOVE and taking the lease).
 * Each rescue counts a stall; beyond `maxStalls` the job goes to the dead-letter set instead.
 * KEYS: waiting, leases, owners, active, orphans, dead, stats, jobPrefix.
 * ARGV: maxStalls, graceMs, keepDeadCount, keepDeadAgeMs, limit.
 * Returns { flat (id, stalls) of requeued jobs, dead ids }.
 */
export const rescueStalled = defineScript(
  'queueRescue',
  `${NOW}
${TRIM}
local waiting, leases, owners, active, orphans, dead, stats, prefix =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local maxStalls, grace = tonumber(ARGV[1]), tonumber(ARGV[2])
local requeued, buried = {}, {}
local function stall(id)
  local job = prefix .. id
  if redis.call('EXISTS', job) == 0 then return end
  local stalls = redis.call('HINCRBY', job, 's', 1)
  redis.call('HINCRBY', stats, 'stalled', 1)
  if stalls > maxStalls then
    redis.call('HSET', job, 'dr', 'stalled', 'f', now, 'e',
      'stalled ' .. stalls .. ' times: its worker stopped renewing the lease (crash, kill, or a blocked event loop)')
    redis.call('ZADD', dead, now, id)
    buried[#buried + 1] = id
  else
    redis.call('RPUSH', waiting, id)
    requeued[#requeued + 1] = id
    requeued[#requeued + 1] = stalls
  end
end
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
if #expired > 0 then
  redis.call('ZREM', leases, unpack(expired))
  redis.call('HDEL', owners, unpack(expired))
  for _, id in ipairs(expired) do stall(id) end
end
local parked = {}
for _, id in ipairs(redis.call('LRANGE', active, 0, -1)) do
  local since = redis.call('HGET', orphans, id)
  if not since then
    redis.call('HSET', orphans, id, now)
    parked[id] = true
  elseif now - tonumber(since) >= grace then
    redis.call('HDEL', orphans, id)
    redis.call('LREM', active, -1, id)
    stall(id)
  else
    parked[id] = true
  end
end
-- Marks of ids a worker leased meanwhile.
for _, id in ipairs(redis.call('HKEYS', orphans)) do
  if not parked[id] then redis.call('HDEL', orphans, id) end
end
if #buried > 0 then
  local dropped = trim(dead, prefix, tonumber(ARGV[3]), tonumber(ARGV[4]), now)
  if dropped > 0 then redis.call('HINCRBY', stats, 'discarded', dropped) end
end
return { requeued, buried }`,
);

/**
 * Moves due delayed jobs to the front of waiting (earliest due taken first), which also wakes a
 * worker blocked in BLMOVE. KEYS: delayed, waiting. ARGV: limit.
 * Returns { moved, ms until the next due job or -1 }.
 */
export const promoteDelayed = defineScript(
  'queuePromote',
  `${NOW}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then
  redis.call('ZREM', KEYS[1], unpack(due))
  local reversed = {}
  for j = #due, 1, -1 do reversed[#reversed + 1] = due[j] end
  redis.call('RPUSH', KEYS[2], unpack(reversed))
end
local nextDue = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if nextDue[2] then return { #due, math.max(0, tonumber(nextDue[2]) - now) } end
return { #due, -1 }`,
);

/**
 * One consistent snapshot of the queue's sizes and counters.
 * KEYS: waiting, leases, active, delayed, dead, stats.
 */
export const countJobs = defineScript(
  'queueCounts',
  `local s = redis.call('HMGET', KEYS[6], 'added', 'completed', 'failed', 'stalled', 'discarded')
return { redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]) + redis.call('LLEN', KEYS[3]),
  redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[5]), s[1], s[2], s[3], s[4], s[5] }`,
);

/**
 * One job's hash and where it is. KEYS: leases, active, delayed, dead, done, jobPrefix. ARGV: id.
 * Returns false, or { hash fields, delayed score, dead score, done score, 1 if active else 0 }.
 */
export const inspectJob = defineScript(
  'queueInspect',
  `local id = ARGV[1]
local fields = redis.call('HGETALL', KEYS[6] .. id)
if #fields == 0 then return false end
local active = (redis.call('ZSCORE', KEYS[1], id) or redis.call('LPOS', KEYS[2], id)) and 1 or 0
return { fields, redis.call('ZSCORE', KEYS[3], id), redis.call('ZSCORE', KEYS[4], id),
  redis.call('ZSCORE', KEYS[5], id), active }`,
);

/**
 * The first `count` jobs of one state with their hashes. KEYS: source, jobPrefix.
 * ARGV: kind (list: next to run first | zset: earliest first | zsetrev: newest first), count.
 * Returns flat (id, hash fields, score or false).
 */
export const peekJobs = defineScript(
  'queuePeek',
  `local kind, count, ids, scores = ARGV[1], tonumber(ARGV[2]), {}, {}
if kind == 'list' then
  local listed = redis.call('LRANGE', KEYS[1], -count, -1)
  for j = #listed, 1, -1 do ids[#ids + 1] = listed[j] end
else
  local cmd = kind == 'zset' and 'ZRANGE' or 'ZREVRANGE'
  local flat = redis.call(cmd, KEYS[1], 0, count - 1, 'WITHSCORES')
  for j = 1, #flat, 2 do
    ids[#ids + 1] = flat[j]
    scores[#ids] = flat[j + 1]
  end
end
local out = {}
for j, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', KEYS[2] .. id)
  out[#out + 1] = scores[j] or false
end
return out`,
);

/**
 * Gives dead jobs a fresh set of attempts at the back of waiting. KEYS: dead, waiting, jobPrefix.
 * ARGV: limit, ids... (none: the oldest `limit` dead jobs). Returns how many moved.
 */
export const retryDeadJobs = defineScript(
  'queueRetryDead',
  `local ids = {}
if #ARGV > 1 then
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
end
local moved = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[1], id) == 1 and redis.call('EXISTS', KEYS[3] .. id) == 1 then
    redis.call('HDEL', KEYS[3] .. id, 'n', 's', 'dr', 'f')
    redis.call('LPUSH', KEYS[2], id)
    moved = moved + 1
  end
end
return moved`,
);

/**
 * Removes up to `limit` jobs of one state with their hashes. KEYS: source, stats, jobPrefix.
 * ARGV: kind (list | zset), limit, countAsDiscarded (1|0). Returns how many were removed.
 */
export const purgeJobs = defineScript(
  'queuePurge',
  `local limit, ids = tonumber(ARGV[2]), {}
if ARGV[1] == 'list' then
  ids = redis.call('RPOP', KEYS[1], limit) or {}
else
  local popped = redis.call('ZPOPMIN', KEYS[1], limit)
  for j = 1, #popped, 2 do ids[#ids + 1] = popped[j] end
end
for _, id in ipairs(ids) do redis.call('DEL', KEYS[3] .. id) end
if #ids > 0 and ARGV[3] == '1' then redis.call('HINCRBY', KEYS[2], 'discarded', #ids) end
return #ids`,
);
