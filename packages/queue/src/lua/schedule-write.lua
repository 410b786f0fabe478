-- Creates or replaces a schedule if its spec is still the one the caller read (an update computed
-- from another spec is never applied over it). An update's due time must be after the server's
-- now: every occurrence that already ran was due at or before now, so the updated schedule can
-- never run one of them again (the caller reads the clock again and recomputes).
-- KEYS: schedules, schednext. ARGV: scheduleId, spec read ('' none), new spec, new due ms ('' none).
-- Returns 1 written, 0 changed meanwhile or due time no longer in the future.
--!include now
local id, read, due = ARGV[1], ARGV[2], ARGV[4]
if (redis.call('HGET', KEYS[1], id) or '') ~= read then return 0 end
if read ~= '' and due ~= '' and tonumber(due) <= now then return 0 end
redis.call('HSET', KEYS[1], id, ARGV[3])
if due == '' then
  redis.call('ZREM', KEYS[2], id)
else
  redis.call('ZADD', KEYS[2], due, id)
end
return 1
