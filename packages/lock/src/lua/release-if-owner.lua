-- Deletes the lock if `owner` still holds it and wakes the waiters: the clean-up after a call whose
-- outcome is unknown (an acquire that timed out, a release that could not reach Redis). It is sent
-- on the same socket as the command it cleans up after, so it runs after it.
-- KEYS: lock. ARGV: owner, release channel, instance. Returns 1 if it deleted the lock.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SPUBLISH', ARGV[2], ARGV[3])
return 1
