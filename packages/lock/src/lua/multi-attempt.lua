-- One all-or-nothing attempt on several lock names of one hash slot (a group of an acquireAll()).
-- KEYS: lock, fence, waiters of each name. ARGV: the caller's clock in ms, ttlMs, instance, mark
-- expiry (ms, caller's clock), unmark ('1': this caller marked itself waiting before), then one
-- owner per name. Returns 1 and the fencing token of each name when every name was free and is now
-- granted; else 0, the 1-based index of the first held name and its PTTL, and nothing is granted.
--
-- A refused attempt marks the instance in the `waiters` of each held name, as a mutex attempt does,
-- so that a mutex holder of another process yields to it after its turn (see attempt.lua).
local n = #KEYS / 3
local first_held, held_for = 0, 0
for i = 0, n - 1 do
  local pttl = redis.call('PTTL', KEYS[i * 3 + 1])
  if pttl ~= -2 then
    if first_held == 0 then first_held, held_for = i + 1, pttl end
    local waiters = KEYS[i * 3 + 3]
    redis.call('ZREMRANGEBYSCORE', waiters, '-inf', ARGV[1])
    redis.call('ZADD', waiters, ARGV[4], ARGV[3])
    redis.call('PEXPIREAT', waiters, ARGV[4])
  end
end
if first_held > 0 then return {0, first_held, held_for} end
local out = {1}
for i = 0, n - 1 do
  redis.call('SET', KEYS[i * 3 + 1], ARGV[6 + i], 'PX', ARGV[2])
  out[#out + 1] = redis.call('INCR', KEYS[i * 3 + 2])
  if ARGV[5] == '1' then redis.call('ZREM', KEYS[i * 3 + 3], ARGV[3]) end
end
return out
