import { defineScript } from '@redis-patterns/connection';

/**
 * Acquisition attempts, one or many in one call (the attempts of one tick and one hash slot).
 * KEYS: lock, fence, waiters of each attempt. ARGV[1]: the caller's clock in ms; then five per
 * attempt: owner, ttlMs, instance, mark expiry (ms, caller's clock), more ('1' if the instance has
 * other callers waiting for this name). Returns two integers per attempt: 1 and the fencing token
 * when granted, else 0 and the holder's PTTL.
 *
 * `waiters` marks which lock instances (processes) wait for the name, so that a holder hands the lock
 * to a waiter of its own process only while no other process waits (see handle.ts). A failed attempt
 * marks its instance; a grant unmarks it unless more of its callers wait. Marks expire (by score) if
 * not renewed, and the key itself when nobody waits.
 */
export const attemptScript = defineScript(
  'lockAttempt',
  `local out = {}
for i = 0, #KEYS / 3 - 1 do
  local lock, fence, waiters = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local a = 2 + i * 5
  local instance, mark = ARGV[a + 2], ARGV[a + 3]
  if redis.call('SET', lock, ARGV[a], 'NX', 'PX', ARGV[a + 1]) then
    out[#out + 1] = 1
    out[#out + 1] = redis.call('INCR', fence)
    if ARGV[a + 4] == '1' then redis.call('ZADD', waiters, mark, instance)
    else redis.call('ZREM', waiters, instance) end
  else
    out[#out + 1] = 0
    out[#out + 1] = redis.call('PTTL', lock)
    redis.call('ZREMRANGEBYSCORE', waiters, '-inf', ARGV[1])
    redis.call('ZADD', waiters, mark, instance)
    redis.call('PEXPIREAT', waiters, mark)
  end
end
return out`,
);

/**
 * Deletes the lock if `owner` still holds it and wakes the waiters: the clean-up after a call whose
 * outcome is unknown (an acquire that timed out, a release that could not reach Redis). It is sent
 * on the same socket as the command it cleans up after, so it runs after it.
 * KEYS: lock. ARGV: owner, release channel, instance. Returns 1 if it deleted the lock.
 */
export const releaseIfOwnerScript = defineScript(
  'lockReleaseIfOwner',
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SPUBLISH', ARGV[2], ARGV[3])
return 1`,
);

/** Deletes the lock whoever holds it and wakes the waiters. KEYS: lock. ARGV: channel. Returns 1 if there was a lock. */
export const forceReleaseScript = defineScript(
  'lockForceRelease',
  `local deleted = redis.call('DEL', KEYS[1])
redis.call('SPUBLISH', ARGV[1], '')
return deleted`,
);

/**
 * One attempt in strict FIFO order (`fair: true`): the lock goes to the oldest caller still waiting,
 * across processes. KEYS: lock, fence, queue (a list of owners, oldest first), marks (a sorted set:
 * owner -> the server time until which it counts as waiting). ARGV: owner, ttlMs, markMs, join ('1':
 * join the queue if not granted). Returns 1 and the fencing token when granted, else 0 and the PTTL.
 *
 * A caller renews its mark with each attempt; the head of the queue is skipped once its mark has
 * expired (its process died, or it left without saying so), so a dead waiter blocks the name for
 * at most markMs. Server time: the marks of all processes are compared with one clock.
 */
export const fairAttemptScript = defineScript(
  'lockFairAttempt',
  `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lock, fence, queue, marks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local owner = ARGV[1]
local head = redis.call('LINDEX', queue, 0)
while head do
  local expiry = redis.call('ZSCORE', marks, head)
  if expiry and tonumber(expiry) > now then break end
  redis.call('LPOP', queue)
  redis.call('ZREM', marks, head)
  head = redis.call('LINDEX', queue, 0)
end
if (not head or head == owner) and redis.call('SET', lock, owner, 'NX', 'PX', ARGV[2]) then
  if head then
    redis.call('LPOP', queue)
    redis.call('ZREM', marks, owner)
  end
  return {1, redis.call('INCR', fence)}
end
if ARGV[4] == '1' then
  local expiry = tostring(now + tonumber(ARGV[3]))
  if redis.call('ZADD', marks, expiry, owner) == 1 then redis.call('RPUSH', queue, owner) end
  redis.call('PEXPIRE', queue, ARGV[3])
  redis.call('PEXPIRE', marks, ARGV[3])
end
return {0, redis.call('PTTL', lock)}`,
);

/** A fair waiter gives up its place. KEYS: queue, marks. ARGV: owner. */
export const fairLeaveScript = defineScript(
  'lockFairLeave',
  `redis.call('LREM', KEYS[1], 0, ARGV[1])
return redis.call('ZREM', KEYS[2], ARGV[1])`,
);
