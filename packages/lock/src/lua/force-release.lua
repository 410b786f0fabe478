-- Deletes the lock whoever holds it and wakes the waiters. KEYS: lock. ARGV: channel.
-- Returns 1 if there was a lock.
local deleted = redis.call('DEL', KEYS[1])
redis.call('SPUBLISH', ARGV[1], '')
return deleted
