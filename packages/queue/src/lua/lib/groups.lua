-- groupDone(q, g): one job of group `g` stopped running (finished, stalled or given back). A group
-- held at its concurrency limit (score +inf in `gheld`) comes back to the rotation if it still has
-- waiting jobs. Returns true when it did (the caller wakes a blocked worker).
local function groupDone(q, g)
  if not g or g == '' then return false end
  if redis.call('HINCRBY', q.gactive, g, -1) <= 0 then redis.call('HDEL', q.gactive, g) end
  if redis.call('ZSCORE', q.gheld, g) == 'inf' then
    redis.call('ZREM', q.gheld, g)
    if redis.call('LLEN', q.gprefix .. g) > 0 then
      redis.call('RPUSH', q.groups, g)
      return true
    end
  end
  return false
end
