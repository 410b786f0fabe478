-- The leader's heartbeat while its loader runs: extends the load lease, if the caller still holds it.
-- KEYS: lease. ARGV: lease token, new lease TTL in ms.
-- Returns 1 if it extended the lease, 0 if the lease is gone or someone else's.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
