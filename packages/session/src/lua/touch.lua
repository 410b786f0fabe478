-- touch: the refresh alone. EXISTS-style check first, so a late touch never recreates a destroyed
-- or expired session (a bare PEXPIRE would not either, but HSET would). KEYS: session.
-- ARGV: idleTtlMs, touchAfterMs. Returns -1 (gone), 0 (skipped) or 1 (refreshed).
--!include clock
--!include refresh
local m = redis.call('HMGET', KEYS[1], 'a', 'r')
if not m[1] or not m[2] then return -1 end
return refresh(KEYS[1], clock(), tonumber(m[1]), tonumber(m[2]), tonumber(ARGV[1]), tonumber(ARGV[2]))
