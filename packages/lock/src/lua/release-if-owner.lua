-- Deletes the lock if `owner` still holds it and wakes the waiters: a lone release (one round trip,
-- where WATCH/MULTI takes two), and the clean-up after a call whose outcome is unknown (an acquire
-- that timed out, a release that could not reach Redis), sent on the same socket as the command it
-- cleans up after, so it runs after it.
-- KEYS: lock. ARGV: owner, release channel, instance. Returns 1 if it deleted the lock, 0 if there
-- was no lock (expired), -1 if another owner holds it.
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return current and -1 or 0 end
redis.call('DEL', KEYS[1])
redis.call('SPUBLISH', ARGV[2], ARGV[3])
return 1
