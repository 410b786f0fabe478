-- Moves due delayed jobs to the front of waiting (earliest due taken first), which also wakes a
-- worker blocked in BLMOVE. KEYS: delayed, waiting. ARGV: limit.
-- Returns { moved, ms until the next due job or -1 }.
--!include now
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then
  redis.call('ZREM', KEYS[1], unpack(due))
  local reversed = {}
  for j = #due, 1, -1 do reversed[#reversed + 1] = due[j] end
  redis.call('RPUSH', KEYS[2], unpack(reversed))
end
local nextDue = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if nextDue[2] then return { #due, math.max(0, tonumber(nextDue[2]) - now) } end
return { #due, -1 }
