-- The leader's write: only while it still holds the lease, so a delete() or set() during the load
-- wins. The entry is written and the lease released in one step, so a process that takes the lease
-- next and re-reads the entry sees this value.
-- KEYS: entry, lease (same slot). ARGV: lease token, entry bytes (see envelope.ts), entry TTL in ms.
-- Returns 1 if it wrote the entry, 0 if the lease is no longer the caller's (nothing written).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
return 1
