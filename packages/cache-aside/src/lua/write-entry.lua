-- An explicit write (set()) also drops the lease, so a load that started before it cannot
-- overwrite it.
-- KEYS: entry, lease (same slot). ARGV: entry bytes (see envelope.ts), entry TTL in ms. Returns 1.
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
return 1
