-- One schedule as stored, with the server time it was read at (the upsert plans from that clock).
-- KEYS: schedules, schednext. ARGV: scheduleId.
-- Returns { now, spec or false, next due ms or false }.
--!include now
return { now, redis.call('HGET', KEYS[1], ARGV[1]), redis.call('ZSCORE', KEYS[2], ARGV[1]) }
