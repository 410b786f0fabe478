-- add_entry(key, handle, absoluteAt, cap, now): puts a handle in its user's index. The score is
-- the session's fixed absoluteAt ('' = none: now + cap, its lifetime) plus a minute, so an entry
-- outlives its session even when the session's write computed its end on another node's clock (a
-- login sends both together on Cluster). Drops the entries whose score has passed, and moves the
-- index's TTL up to this entry's score if it ended sooner (never down: it stays at or past every
-- entry's score). Returns the score.
local function add_entry(key, handle, absoluteAt, cap, now)
  local score = (absoluteAt ~= '' and tonumber(absoluteAt) or now + tonumber(cap)) + 60000
  redis.call('ZADD', key, score, handle)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  -- GT leaves a key without a TTL alone (it counts as never ending): NX gives a new index its TTL.
  if redis.call('PEXPIREAT', key, score, 'GT') == 0 then redis.call('PEXPIREAT', key, score, 'NX') end
  return score
end
