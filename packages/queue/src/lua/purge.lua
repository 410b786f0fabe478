-- Removes up to `limit` jobs of one state with their hashes: waiting ones in fetch order (see
-- lib/waiting.lua), the earliest of a zset otherwise.
-- KEYS: the base block (lib/base.lua), then source (the zset; unused for waiting).
-- ARGV: kind (waiting | zset), limit, countAsDiscarded (1|0). Returns how many were removed.
--!include base
--!include group-names
local limit, ids = tonumber(ARGV[2]), {}
local function add(listed)
  for _, id in ipairs(listed or {}) do
    if id ~= '' then ids[#ids + 1] = id end
  end
end
if ARGV[1] == 'waiting' then
  local popped = redis.call('ZPOPMIN', K.prio, limit)
  for j = 1, #popped, 2 do ids[#ids + 1] = popped[j] end
  if #ids < limit then add(redis.call('RPOP', K.waiting, limit - #ids)) end
  for _, g in ipairs(groupNames(K)) do
    if #ids >= limit then break end
    local list = K.gprefix .. g
    add(redis.call('RPOP', list, limit - #ids))
    if redis.call('LLEN', list) == 0 then
      redis.call('LREM', K.groups, 0, g)
      redis.call('ZREM', K.gheld, g)
    end
  end
else
  local popped = redis.call('ZPOPMIN', KEYS[14], limit)
  for j = 1, #popped, 2 do ids[#ids + 1] = popped[j] end
end
for _, id in ipairs(ids) do redis.call('DEL', K.prefix .. id) end
if #ids > 0 and ARGV[3] == '1' then redis.call('HINCRBY', K.stats, 'discarded', #ids) end
return #ids
