-- update_session(key, last): merges a patch into the data (or replaces it) inside Redis; the body
-- of update.lua and update-indexed.lua. ARGV[last] is the last of its arguments. Checks existence
-- first: a late update of a destroyed or expired session is refused, never resurrects it. With an
-- expected version it is a compare-and-set (function updates retry on conflict). The size check
-- runs before any write, so an oversized result leaves the session untouched.
-- ARGV: idleTtlMs, maxSizeBytes, expectedVersion ('' = any), mode ('patch' | 'replace' |
-- 'blob'), userOp ('keep' | 'set' | 'unset'), userId, touchAfterMs, then a new lifetime from a
-- cookie: cap ('' = keep the lifetime), own idle timeout, fixed end (see lib/relife.lua), then
-- setCount, setCount name/value pairs, names to delete. Mode 'blob' sends the whole data field,
-- encoded by the app, as ARGV[12] (setCount '0'): with the version the app read as expectedVersion
-- it is the merge of a patch done by the app, with no JSON decoding or encoding in Redis.
-- The idle TTL slides as a read's refresh does (lib/refresh.lua): only when the last refresh is
-- outside the skip window, or the lifetime changed; otherwise the write leaves the TTL and `r`.
-- Returns { 0 } gone (or ended by a lifetime in the past), { -1 } version conflict, { -2, size }
-- too large, or { 1, now, previousUserId or '', version, createdAt, absoluteAt, refreshedAt }.
--!include clock
--!include window
--!include relife
local function update_session(key, last)
  -- The data only for a patch, which merges into it: a whole new blob does not need it.
  local m
  if ARGV[4] == 'patch' then
    m = redis.call('HMGET', key, 'a', 'v', 'u', 'c', 'r', 'i', 'd')
  else
    m = redis.call('HMGET', key, 'a', 'v', 'u', 'c', 'r', 'i')
  end
  if not m[1] or not m[5] or (ARGV[4] == 'patch' and not m[7]) then return { 0 } end
  if ARGV[3] ~= '' and m[2] ~= ARGV[3] then return { -1 } end
  local now = clock()
  local a = tonumber(m[1])
  if a <= now then
    redis.call('DEL', key)
    return { 0 }
  end
  local blob = ARGV[12]
  if ARGV[4] ~= 'blob' then
    local data = {}
    if ARGV[4] == 'patch' then data = cjson.decode(m[7]) end
    local lastSet = 11 + 2 * tonumber(ARGV[11])
    for i = 12, lastSet, 2 do data[ARGV[i]] = ARGV[i + 1] end
    for i = lastSet + 1, last do data[ARGV[i]] = nil end
    -- cjson writes '/' as '\/'; JSON.stringify, which counted the size before this script ran, does
    -- not. Unescaping keeps both counts (and the stored bytes) the same; cjson never writes a bare
    -- '/', so every '\/' in its output is that escape.
    blob = (string.gsub(cjson.encode(data), '\\/', '/'))
  end
  if #blob > tonumber(ARGV[2]) then return { -2, #blob } end
  local c = tonumber(m[4]) or now
  local own = tonumber(m[6])
  local relifed = ARGV[8] ~= ''
  if relifed then
    a = relife(key, c, ARGV[9], ARGV[8], ARGV[10])
    own = tonumber(ARGV[9])
    if a <= now then
      redis.call('DEL', key)
      return { 0 }
    end
  end
  local version = (tonumber(m[2]) or 0) + 1
  local ttl, skip = window(tonumber(ARGV[1]), tonumber(ARGV[7]), own)
  local slide = relifed or now - tonumber(m[5]) >= skip
  local refreshed = slide and now or m[5]
  -- The data, its version, the refresh (the same `r` inside the window) and a new user in one
  -- HSET: each call is most of what a script costs.
  if ARGV[5] == 'set' then
    redis.call('HSET', key, 'd', blob, 'r', refreshed, 'v', version, 'u', ARGV[6])
  else
    redis.call('HSET', key, 'd', blob, 'r', refreshed, 'v', version)
    if ARGV[5] == 'unset' then redis.call('HDEL', key, 'u') end
  end
  if slide then redis.call('PEXPIRE', key, math.min(ttl, a - now)) end
  return { 1, now, m[3] or '', version, c, a, refreshed }
end
