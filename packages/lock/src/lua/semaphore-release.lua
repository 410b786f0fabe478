-- Releases holders of sorted sets of holders (a semaphore's, or a read/write lock's readers or
-- writer), one or many in one call, and wakes the waiters of each name released.
-- KEYS: holders of each release. ARGV: three per release: member, release channel, instance (the
-- message). Returns one integer per release: 1 if released, 0 if the member was gone or its TTL
-- had run out (then it is removed all the same).
--!include server-now
local out = {}
for i = 1, #KEYS do
  local a = (i - 1) * 3
  local score = redis.call('ZSCORE', KEYS[i], ARGV[a + 1])
  if not score then
    out[i] = 0
  else
    redis.call('ZREM', KEYS[i], ARGV[a + 1])
    redis.call('SPUBLISH', ARGV[a + 2], ARGV[a + 3])
    if tonumber(score) > now then out[i] = 1 else out[i] = 0 end
  end
end
return out
