-- Extends one holder of a sorted set of holders (a semaphore's, or a read/write lock's readers or
-- writer). KEYS: holders. ARGV: member, ttlMs. Returns 1 if extended, 0 if the member is gone or
-- its TTL has run out (an expired member is removed: its permit was free for others already).
--!include server-now
--!include expire-at-least
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
if tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
local expiry = tostring(now + tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[1])
expire_at_least(KEYS[1], expiry)
return 1
