-- Deletes every limit's key of one identifier (rateLimit:reset). KEYS: the keys. ARGV: none.
-- Returns the number of keys deleted.
--
-- A script rather than a plain DEL: on Cluster node-redis sends DEL through its multi-shard
-- routing, a few ticks slower than a script, so a reset not awaited could run after a check issued
-- after it; scripts keep their order.
return redis.call('DEL', unpack(KEYS))
