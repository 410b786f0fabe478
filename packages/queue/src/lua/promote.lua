-- Moves due delayed jobs to the front of where they wait (earliest due taken first), which also
-- wakes a worker blocked in BLMOVE. KEYS: the base block (lib/base.lua). ARGV: limit.
-- Returns { moved, ms until the next due job or -1 }.
--!include base
--!include now
--!include ready
local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then
  redis.call('ZREM', K.delayed, unpack(due))
  for j = #due, 1, -1 do ready(K, due[j], true) end
end
local nextDue = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
if nextDue[2] then return { #due, math.max(0, tonumber(nextDue[2]) - now) } end
return { #due, -1 }
