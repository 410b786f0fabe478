-- A subscriber's catch-up read: up to ARGV[2] entries after ARGV[1] (exclusive), and the stream's
-- counters at that same instant, which place those entries in the stream's whole history (a
-- subscriber's gap check needs both from one instant: see src/event-stream.ts).
-- KEYS: events. ARGV: after id, count (0: the counters only).
-- Returns { entries, length, entries-added (-1 before Redis 7.0), first entry id or false,
-- last generated id }, or false when the stream does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local entries = {}
if ARGV[2] ~= '0' then entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2]) end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local length, added, first, last = 0, -1, false, '0-0'
for i = 1, #info, 2 do
  local name, value = info[i], info[i + 1]
  if name == 'length' then length = value
  elseif name == 'entries-added' then added = value
  elseif name == 'first-entry' and value then first = value[1]
  elseif name == 'last-generated-id' then last = value end
end
return { entries, length, added, first, last }
