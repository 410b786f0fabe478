-- trim(zset, prefix, count, ageMs, at): drops the oldest entries of a retention zset (id -> time)
-- beyond `count` (-1: no limit) or older than `ageMs` at time `at` (ms; 0: no age limit), deleting
-- each dropped job's hash (`prefix .. id`). At most 1000 of each kind per call. Returns how many
-- were dropped.
local function trim(zset, prefix, count, ageMs, at)
  local dropped = 0
  if count >= 0 then
    local excess = math.min(redis.call('ZCARD', zset) - count, 1000)
    if excess > 0 then
      local old = redis.call('ZPOPMIN', zset, excess)
      for j = 1, #old, 2 do redis.call('DEL', prefix .. old[j]) end
      dropped = dropped + #old / 2
    end
  end
  if ageMs > 0 then
    local old = redis.call('ZRANGEBYSCORE', zset, '-inf', at - ageMs, 'LIMIT', 0, 1000)
    for j = 1, #old do
      redis.call('ZREM', zset, old[j])
      redis.call('DEL', prefix .. old[j])
    end
    dropped = dropped + #old
  end
  return dropped
end
