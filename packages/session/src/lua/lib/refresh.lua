-- Slides the idle TTL unless the last refresh is younger than touchAfter; the TTL never reaches
-- past the absolute expiry. 1 = refreshed, 0 = skipped (no write), -1 = past its absolute end.
local function refresh(key, now, absolute, refreshed, idle, touchAfter)
  if absolute <= now then
    redis.call('DEL', key)
    return -1
  end
  if now - refreshed < touchAfter then return 0 end
  redis.call('HSET', key, 'r', now)
  redis.call('PEXPIRE', key, math.min(idle, absolute - now))
  return 1
end
