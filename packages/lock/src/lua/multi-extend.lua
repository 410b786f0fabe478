-- Extends the names of one hash slot that an acquireAll() holds. KEYS: lock of each name. ARGV:
-- ttlMs, then one owner per name. Returns one integer per name: 1 extended, 0 gone (expired or
-- deleted), -1 held by another owner (left alone).
local out = {}
for i = 1, #KEYS do
  local current = redis.call('GET', KEYS[i])
  if current == ARGV[i + 1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
    out[i] = 1
  elseif current then
    out[i] = -1
  else
    out[i] = 0
  end
end
return out
