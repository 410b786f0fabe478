-- Removes up to `limit` jobs of one state with their hashes: the next to run of a list, the
-- earliest of a zset. KEYS: source, stats, jobPrefix.
-- ARGV: kind (list | zset), limit, countAsDiscarded (1|0). Returns how many were removed.
local limit, ids = tonumber(ARGV[2]), {}
if ARGV[1] == 'list' then
  ids = redis.call('RPOP', KEYS[1], limit) or {}
else
  local popped = redis.call('ZPOPMIN', KEYS[1], limit)
  for j = 1, #popped, 2 do ids[#ids + 1] = popped[j] end
end
for _, id in ipairs(ids) do redis.call('DEL', KEYS[3] .. id) end
if #ids > 0 and ARGV[3] == '1' then redis.call('HINCRBY', KEYS[2], 'discarded', #ids) end
return #ids
