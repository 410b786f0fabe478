-- get: the session and its refresh in one round trip. KEYS: session. ARGV: idleTtlMs,
-- touchAfterMs. Returns nil, or { now, refreshed (0|1), a, r (before this read), c, u or '', d,
-- i or '', v }.
--!include read-one
local out = {}
if not read(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), out, 2) then return false end
out[1] = now
return out
