-- A new session hash in two steps, so a script can write another key between the checks and the
-- write: create_check(key), then create_write(key, now, a, c). The session is refused if the key
-- exists (a live session, or a tombstone: a destroyed id, or one a destroyAllForUser reached
-- before its login was written). After the checks pass, the write cannot fail.
-- ARGV: idleTtlMs, absoluteTtlMs, absoluteAt ('' = none; the end is the earlier of it and now +
-- absoluteTtlMs), createdAt ('' = now), userId ('' = none), data (JSON map), touchAfterMs, own
-- idle timeout ('' = the store's). create_check returns { 0 } if the key exists, { -1 } if
-- absoluteAt has passed, else nil and now, the absolute end and createdAt; create_write returns
-- { 1, now, createdAt, absoluteAt }.
--!include clock
--!include window
local function create_check(key)
  if redis.call('EXISTS', key) == 1 then return { 0 } end
  local now = clock()
  local a = now + tonumber(ARGV[2])
  if ARGV[3] ~= '' then a = math.min(a, tonumber(ARGV[3])) end
  if a <= now then return { -1 } end
  return nil, now, a, ARGV[4] ~= '' and tonumber(ARGV[4]) or now
end

local function create_write(key, now, a, c)
  local own = tonumber(ARGV[8])
  -- One HSET per shape, rather than a table of fields and unpack: Redis runs this on every login.
  if ARGV[5] == '' and not own then
    redis.call('HSET', key, 'a', a, 'r', now, 'c', c, 'v', 1, 'd', ARGV[6])
  elseif not own then
    redis.call('HSET', key, 'a', a, 'r', now, 'c', c, 'v', 1, 'd', ARGV[6], 'u', ARGV[5])
  elseif ARGV[5] == '' then
    redis.call('HSET', key, 'a', a, 'r', now, 'c', c, 'v', 1, 'd', ARGV[6], 'i', own)
  else
    redis.call('HSET', key, 'a', a, 'r', now, 'c', c, 'v', 1, 'd', ARGV[6], 'u', ARGV[5], 'i', own)
  end
  local ttl = window(tonumber(ARGV[1]), tonumber(ARGV[7]), own)
  redis.call('PEXPIRE', key, math.min(ttl, a - now))
  return { 1, now, c, a }
end
