-- Deletes a schedule: its spec and its due time together, so no scheduler fires it afterwards (a
-- fire's compare-and-set fails once the spec is gone). Jobs it enqueued already stay.
-- KEYS: schedules, schednext. ARGV: scheduleId. Returns 1 removed, 0 no such schedule.
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
