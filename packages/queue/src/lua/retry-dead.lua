-- Gives dead jobs a fresh set of attempts at the back of waiting: clears their attempts, stalls,
-- dead reason and finish time. KEYS: dead, waiting, jobPrefix.
-- ARGV: limit, ids... (none: the oldest `limit` dead jobs). Returns how many moved.
local ids = {}
if #ARGV > 1 then
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
end
local moved = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[1], id) == 1 and redis.call('EXISTS', KEYS[3] .. id) == 1 then
    redis.call('HDEL', KEYS[3] .. id, 'n', 's', 'dr', 'f')
    redis.call('LPUSH', KEYS[2], id)
    moved = moved + 1
  end
end
return moved
