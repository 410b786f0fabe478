-- Returns each tag's version, creating a fresh unique token for a tag that has none, and keeps the
-- tag key alive at least as long as the entry that records it. Invalidation DELetes the tag key; a
-- new token is never equal to an old one, so an entry can never match a version it was not written
-- with.
-- KEYS: the tag keys (one hash slot). ARGV: a random token unique to this call (a new version is
-- token:i), the minimum TTL of a tag key in ms (at least the life of the entry that records it).
-- Returns the version of each tag, in the order of KEYS.
local out = {}
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if not v then
    v = ARGV[1] .. ':' .. i
    redis.call('SET', key, v, 'PX', ttl)
  else
    -- A tag key without a TTL (left = -1) is left as it is.
    local left = redis.call('PTTL', key)
    if left >= 0 and left < ttl then redis.call('PEXPIRE', key, ttl) end
  end
  out[i] = v
end
return out
