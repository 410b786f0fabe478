-- Prunes the members of a user's index whose absolute expiry has passed, and keeps the index's own
-- TTL at its newest member's.
local function prune(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', key, last[2]) end
end
