-- touch: the refresh alone, or a new lifetime from a framework cookie. Checks the session first,
-- so a late touch never recreates a destroyed or expired session. KEYS: session. ARGV: idleTtlMs,
-- touchAfterMs, then cap ('' = keep the lifetime), own idle timeout, fixed end (see
-- lib/relife.lua). Returns -1 (gone, or ended by a lifetime in the past), 0 (skipped) or 1
-- (refreshed).
--!include clock
--!include refresh
--!include relife
local key = KEYS[1]
local m = redis.call('HMGET', key, 'a', 'r', 'c', 'i')
if not m[1] or not m[2] then return -1 end
local now = clock()
if ARGV[3] == '' then
  return refresh(key, now, tonumber(m[1]), tonumber(m[2]), tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(m[4]))
end
if tonumber(m[1]) <= now then
  redis.call('DEL', key)
  return -1
end
local a = relife(key, tonumber(m[3]) or now, ARGV[4], ARGV[3], ARGV[5])
-- A refresh is forced (0 as the last refresh) so the new lifetime's TTL is set now.
return refresh(key, now, a, 0, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4]))
