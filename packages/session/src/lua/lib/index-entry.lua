-- add_entry(key, handle, absoluteAt, cap, now): puts a handle in its user's index. The score is
-- the session's fixed absoluteAt ('' = none: now + cap, its lifetime) plus a minute, so an entry
-- outlives its session even when the session's write computed its end on another node's clock (a
-- login sends both together on Cluster). Prunes the index; returns the score.
--!include prune
local function add_entry(key, handle, absoluteAt, cap, now)
  local score = (absoluteAt ~= '' and tonumber(absoluteAt) or now + tonumber(cap)) + 60000
  redis.call('ZADD', key, score, handle)
  prune(key, now)
  return score
end
