-- create: a new session hash, refused if the key exists. KEYS: session. ARGV: idleTtlMs,
-- absoluteTtlMs, absoluteAt ('' = now + absoluteTtlMs), createdAt ('' = now), userId ('' = none),
-- data (JSON map). Returns { 1, now, createdAt, absoluteAt }, { 0 } if it exists, { -1 } if
-- absoluteAt has passed.
--!include clock
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then return { 0 } end
local now = clock()
local a = ARGV[3] ~= '' and tonumber(ARGV[3]) or now + tonumber(ARGV[2])
local c = ARGV[4] ~= '' and tonumber(ARGV[4]) or now
if a <= now then return { -1 } end
redis.call('HSET', key, 'a', a, 'r', now, 'c', c, 'v', 1, 'd', ARGV[6])
if ARGV[5] ~= '' then redis.call('HSET', key, 'u', ARGV[5]) end
redis.call('PEXPIRE', key, math.min(tonumber(ARGV[1]), a - now))
return { 1, now, c, a }
