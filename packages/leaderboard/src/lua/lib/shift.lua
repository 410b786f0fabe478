-- ARGV[1] of every script: the board's shift, 2^bits with earlier-first ties, else 1
-- (stored = raw * shift + seq; see keys.lua).
local shift = tonumber(ARGV[1])
