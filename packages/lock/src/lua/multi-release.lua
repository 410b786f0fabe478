-- Releases the names of one hash slot that an acquireAll() holds, and wakes each one's waiters.
-- KEYS: lock of each name. ARGV: instance (the release message), then two per name: owner,
-- release channel. Returns one integer per name: 1 released, 0 gone (expired or deleted), -1 held
-- by another owner (left alone: another owner's lock is never deleted).
local out = {}
for i = 1, #KEYS do
  local current = redis.call('GET', KEYS[i])
  if current == ARGV[i * 2] then
    redis.call('DEL', KEYS[i])
    redis.call('SPUBLISH', ARGV[i * 2 + 1], ARGV[1])
    out[i] = 1
  elseif current then
    out[i] = -1
  else
    out[i] = 0
  end
end
return out
