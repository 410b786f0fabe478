-- create_session(key): a new session hash, refused if the key exists (a live session, or a
-- tombstone: a destroyed id, or one a destroyAllForUser reached before its login was written).
-- ARGV: idleTtlMs, absoluteTtlMs, absoluteAt ('' = none; the end is the earlier of it and now +
-- absoluteTtlMs), createdAt ('' = now), userId ('' = none), data (JSON map), touchAfterMs, own
-- idle timeout ('' = the store's). Returns { 1, now, createdAt, absoluteAt }, { 0 } if the key
-- exists, { -1 } if absoluteAt has passed.
--!include clock
--!include window
local function create_session(key)
  if redis.call('EXISTS', key) == 1 then return { 0 } end
  local now = clock()
  local a = now + tonumber(ARGV[2])
  if ARGV[3] ~= '' then a = math.min(a, tonumber(ARGV[3])) end
  local c = ARGV[4] ~= '' and tonumber(ARGV[4]) or now
  if a <= now then return { -1 } end
  local fields = { 'a', a, 'r', now, 'c', c, 'v', 1, 'd', ARGV[6] }
  if ARGV[5] ~= '' then fields[#fields + 1], fields[#fields + 2] = 'u', ARGV[5] end
  local own = tonumber(ARGV[8])
  if own then fields[#fields + 1], fields[#fields + 2] = 'i', own end
  redis.call('HSET', key, unpack(fields))
  local ttl = window(tonumber(ARGV[1]), tonumber(ARGV[7]), own)
  redis.call('PEXPIRE', key, math.min(ttl, a - now))
  return { 1, now, c, a }
end
