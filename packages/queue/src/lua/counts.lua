-- One consistent snapshot of the queue's sizes and counters.
-- KEYS: waiting, leases, active, delayed, dead, stats.
-- Returns { waiting, active (leased + parked in `active`), delayed, dead, then the counters added,
-- completed, failed, stalled, discarded (nil where never counted) }.
local s = redis.call('HMGET', KEYS[6], 'added', 'completed', 'failed', 'stalled', 'discarded')
return { redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]) + redis.call('LLEN', KEYS[3]),
  redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[5]), s[1], s[2], s[3], s[4], s[5] }
