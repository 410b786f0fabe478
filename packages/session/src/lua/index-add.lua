-- Adds a handle to a user's index (see commands.ts). KEYS: index. ARGV: handle, absoluteAt ('' =
-- now + absoluteTtlMs), absoluteTtlMs. The score is that end plus a minute: a login sends this and
-- its session's write together, each computing the end on its own node's clock, and an entry must
-- outlive its session. Returns the score used.
--!include clock
--!include prune
local now = clock()
local score = (ARGV[2] ~= '' and tonumber(ARGV[2]) or now + tonumber(ARGV[3])) + 60000
redis.call('ZADD', KEYS[1], score, ARGV[1])
prune(KEYS[1], now)
return score
