-- A fair waiter gives up its place. KEYS: queue, marks. ARGV: owner.
redis.call('LREM', KEYS[1], 0, ARGV[1])
return redis.call('ZREM', KEYS[2], ARGV[1])
