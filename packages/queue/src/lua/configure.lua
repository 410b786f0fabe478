-- Changes the queue's settings in `config` (lib/base.lua reads them): pause, limits, events.
-- KEYS: the base block (lib/base.lua). ARGV: (field, value)*; an empty value removes the field.
-- Pausing and resuming emit `paused` / `resumed`. When a group limit changes, every held group
-- returns to the rotation: the next fetch holds again those still at the new limit.
-- Returns 1.
--!include base
--!include emit
--!include wake
local wasPaused, groupLimits = K.paused, false
for i = 1, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  if value == '' then redis.call('HDEL', K.config, field) else redis.call('HSET', K.config, field, value) end
  if field == 'gc' or field == 'grm' or field == 'gri' then groupLimits = true end
  if field == 'ev' then K.ev = tonumber(value) or 0 end
end
local paused = redis.call('HGET', K.config, 'paused') == '1'
if paused ~= wasPaused then
  emit(K, paused and 'paused' or 'resumed', '')
  if not paused then wake(K) end
end
if groupLimits then
  for _, g in ipairs(redis.call('ZRANGE', K.gheld, 0, -1)) do
    redis.call('ZREM', K.gheld, g)
    if redis.call('LLEN', K.gprefix .. g) > 0 then redis.call('RPUSH', K.groups, g) end
  end
  wake(K)
end
return 1
