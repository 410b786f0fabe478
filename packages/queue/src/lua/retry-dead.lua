-- Gives dead jobs a fresh set of attempts at the back of where they wait: clears their attempts,
-- stalls, dead reason, finish time and cancel mark. KEYS: the base block (lib/base.lua), then dead.
-- ARGV: limit, ids... (none: the oldest `limit` dead jobs). Returns how many moved.
--!include base
--!include ready
local dead, ids = KEYS[14], {}
if #ARGV > 1 then
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', dead, 0, tonumber(ARGV[1]) - 1)
end
local moved = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', dead, id) == 1 and redis.call('EXISTS', K.prefix .. id) == 1 then
    -- `t` (lib/stamp.lua) would make its lag count the time it lay dead.
    redis.call('HDEL', K.prefix .. id, 'n', 's', 'dr', 'f', 'cx', 't')
    ready(K, id, false)
    moved = moved + 1
  end
end
return moved
