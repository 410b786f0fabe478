-- Adds a handle to a user's index before the session is written (see commands.ts). KEYS: index.
-- ARGV: handle, absoluteAt ('' = now + absoluteTtlMs), absoluteTtlMs. Returns the score used.
--!include clock
--!include prune
local now = clock()
local score = ARGV[2] ~= '' and tonumber(ARGV[2]) or now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], score, ARGV[1])
prune(KEYS[1], now)
return score
