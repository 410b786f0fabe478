-- The batch form of commit-load: writes each loaded entry only while the caller still holds its
-- lease, and releases that lease in the same step.
-- KEYS: entry 1, lease 1, entry 2, lease 2, ... (all in one hash slot). ARGV: lease token, then per
-- key its entry bytes (see envelope.ts) and its entry TTL in ms.
-- Returns how many entries it wrote (a key whose lease is gone or someone else's is skipped).
local written = 0
for i = 1, #KEYS, 2 do
  if redis.call('GET', KEYS[i + 1]) == ARGV[1] then
    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[i + 2])
    redis.call('DEL', KEYS[i + 1])
    written = written + 1
  end
end
return written
