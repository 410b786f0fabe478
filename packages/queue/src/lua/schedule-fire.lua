-- Runs one due occurrence of a schedule, or moves it past missed ones, for exactly one process.
-- Every scheduler may see the same due time; the compare-and-set on it (and on the spec the caller
-- planned with) lets only the first caller advance the schedule, so each occurrence is handled once
-- however many schedulers race. The job id `<scheduleId>:<dueMs>` makes the enqueue idempotent too.
-- KEYS: the base block (lib/base.lua), then schedules, schednext.
-- ARGV: scheduleId, dueMs (the score the caller read), SHA-1 of the spec text it read (the spec
-- itself may hold a large payload), enqueue '1' | '0', job data, priority, group, next due ms ('' when
-- the schedule has ended).
-- Returns { 1 advanced | 0 stale (someone else did it, or the schedule changed), 1 job added | 0 }.
--!include base
--!include enqueue
local schedules, schednext = KEYS[14], KEYS[15]
local id, due = ARGV[1], ARGV[2]
if tonumber(redis.call('ZSCORE', schednext, id)) ~= tonumber(due)
  or redis.sha1hex(redis.call('HGET', schedules, id) or '') ~= ARGV[3] then
  return { 0, 0 }
end
local added = 0
if ARGV[4] == '1' then
  added = enqueue(K, id .. ':' .. due, ARGV[5], '0', ARGV[6], ARGV[7])
  if added == 1 then redis.call('HINCRBY', K.stats, 'added', 1) end
end
if ARGV[8] == '' then
  redis.call('ZREM', schednext, id)
else
  redis.call('ZADD', schednext, ARGV[8], id)
end
return { 1, added }
