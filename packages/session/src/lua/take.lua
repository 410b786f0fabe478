-- regenerate, first half: reads the old session and replaces it, in one step, by a tombstone that
-- points to the new handle. From this moment the old id finds nothing (the tombstone has no `a`),
-- a late update of it is refused, and a destroy of it (logout, destroyAllForUser) follows the
-- pointer to the new session. KEYS: old session. ARGV: new handle, tombstone TTL (ms).
-- Returns nil or { now, flat hash }.
--!include clock
local h = redis.call('HGETALL', KEYS[1])
local a
for i = 1, #h, 2 do
  if h[i] == 'a' then a = tonumber(h[i + 1]) end
end
if not a then return false end
local now = clock()
redis.call('DEL', KEYS[1])
if a <= now then return false end
redis.call('HSET', KEYS[1], 'm', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), a - now))
return { now, h }
