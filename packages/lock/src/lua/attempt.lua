-- Acquisition attempts, one or many in one call (the attempts of one tick and one hash slot).
-- KEYS: lock, fence, waiters of each attempt. ARGV[1]: the caller's clock in ms; then five per
-- attempt: owner, ttlMs, instance, mark expiry (ms, caller's clock), more ('1' if the instance has
-- other callers waiting for this name). Returns two integers per attempt: 1 and the fencing token
-- when granted, else 0 and the holder's PTTL.
--
-- `waiters` marks which lock instances (processes) wait for the name, so that a holder hands the
-- lock to a waiter of its own process only while no other process waits (see handle.ts). A failed
-- attempt marks its instance; a grant unmarks it unless more of its callers wait. Marks expire (by
-- score) if not renewed, and the key itself when nobody waits.
local out = {}
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
return out
