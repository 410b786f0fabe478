-- Gives the load lease back (the load failed or its result cannot be used), so that others need not
-- wait out its TTL; only if the caller still holds it.
-- KEYS: lease. ARGV: lease token.
-- Returns 1 if it deleted the lease, 0 if the lease is gone or someone else's.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
