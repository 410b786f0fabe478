--!include window
-- Slides the idle TTL unless the last refresh is within the skip window; the TTL never reaches
-- past the absolute expiry. `own` is the session's own idle timeout (field `i`) or nil.
-- 1 = refreshed, 0 = skipped (no write), -1 = past its absolute end.
local function refresh(key, now, absolute, refreshed, idle, touchAfter, own)
  if absolute <= now then
    redis.call('DEL', key)
    return -1
  end
  local ttl, skip = window(idle, touchAfter, own)
  if now - refreshed < skip then return 0 end
  redis.call('HSET', key, 'r', now)
  redis.call('PEXPIRE', key, math.min(ttl, absolute - now))
  return 1
end
