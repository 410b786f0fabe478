-- A lifetime set from a framework cookie (update, touch): `own` its maxAge as the session's idle
-- timeout ('' = the store's), `cap` the longest a session may live from its creation, `fixedEnd`
-- a fixed expiry the cookie carries without a maxAge ('' = none). Writes fields i and a and
-- returns the new absolute end (which can be in the past: the caller then deletes the session).
local function relife(key, createdAt, own, cap, fixedEnd)
  if own == '' then redis.call('HDEL', key, 'i') else redis.call('HSET', key, 'i', own) end
  local a = createdAt + tonumber(cap)
  if fixedEnd ~= '' then a = math.min(a, tonumber(fixedEnd)) end
  redis.call('HSET', key, 'a', a)
  return a
end
