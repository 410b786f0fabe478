import { defineScript } from '@redis-patterns/connection';

/*
 * Every Redis command of the pattern is in this file.
 *
 * Layout (prefix `session:` by default):
 *   session:{<handle>}        HASH, one per session; <handle> = base64url(SHA-256(id)), never the id
 *     a  absolute expiry (ms, server clock)   r  last refresh (ms)      c  created at (ms)
 *     v  version, +1 per data write           u  user id (optional)
 *     d  the data: a JSON object mapping each top-level property to its serialized value, so a
 *        patch merges properties inside Redis (cjson) whatever the serializer
 *   a regenerated session's old key becomes a tombstone for a minute: HASH { m = new handle }
 *   session:{user:<userId>}   ZSET of the user's handles, score = the session's absolute expiry
 *
 * The key's TTL is always min(idleTtlMs, a - now) from the last refresh, so Redis frees a session
 * at its idle or absolute end, whichever comes first. A session key and its user's index are in
 * different Cluster slots; see engine.ts for the order of writes that keeps the index complete.
 * One data field rather than a field per property: a read is one HMGET of a few fields, which
 * costs Redis about a third less than an HGETALL of every property.
 */

/** Server clock in ms, and the refresh shared by read and touch. */
const prelude = `
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Slides the idle TTL unless the last refresh is younger than touchAfter; the TTL never reaches
-- past the absolute expiry. 1 = refreshed, 0 = skipped (no write), -1 = past its absolute end.
local function refresh(key, now, absolute, refreshed, idle, touchAfter)
  if absolute <= now then
    redis.call('DEL', key)
    return -1
  end
  if now - refreshed < touchAfter then return 0 end
  redis.call('HSET', key, 'r', now)
  redis.call('PEXPIRE', key, math.min(idle, absolute - now))
  return 1
end
`;

/**
 * One read with its refresh; `now` is read once per script call, on the first live session. Fills
 * out[at .. at + 5] with refreshed (0|1), a, r (before this read), c, u or '', d and returns true,
 * or returns false for a session that is gone.
 */
const read = `
local now
local function read(key, idle, touchAfter, out, at)
  local m = redis.call('HMGET', key, 'a', 'r', 'c', 'u', 'd')
  if not m[1] or not m[2] or not m[5] then return false end
  now = now or clock()
  local state = refresh(key, now, tonumber(m[1]), tonumber(m[2]), idle, touchAfter)
  if state < 0 then return false end
  out[at], out[at + 1], out[at + 2], out[at + 3], out[at + 4], out[at + 5] =
    state, m[1], m[2], m[3] or m[2], m[4] or '', m[5]
  return true
end
`;

/**
 * get: the session and its refresh in one round trip. KEYS: session. ARGV: idleTtlMs,
 * touchAfterMs. Returns nil, or { now, refreshed (0|1), a, r (before this read), c, u or '', d }.
 */
export const readScript = defineScript(
  'sessionRead',
  `${prelude}${read}
local out = {}
if not read(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), out, 2) then return false end
out[1] = now
return out`,
);

/**
 * Several gets of one store in one call, for reads asked for in the same tick: each runs exactly as
 * {@link readScript} would, in order, with one TIME for all. KEYS: the sessions (one slot on
 * Cluster). ARGV: idleTtlMs, touchAfterMs. Returns one flat array (a table per read would cost
 * Redis about 0.35 µs each to convert): the server time (0 if no session was live), then six slots
 * per key, as readScript returns them after its time; or nil and five zeros for a session that is
 * gone; or an error reply and five zeros for a key Redis refused (another type): under pcall it
 * fails that read alone.
 */
export const readBatchScript = defineScript(
  'sessionReadBatch',
  `${prelude}${read}
local idle, touchAfter, replies = tonumber(ARGV[1]), tonumber(ARGV[2]), { 0 }
for i = 1, #KEYS do
  local at = 6 * i - 4
  local ok, found = pcall(read, KEYS[i], idle, touchAfter, replies, at)
  if not (ok and found) then
    if ok then replies[at] = false
    else replies[at] = { err = type(found) == 'table' and found.err or tostring(found) } end
    for j = 1, 5 do replies[at + j] = 0 end
  end
end
replies[1] = now or 0
return replies`,
);

/**
 * touch: the refresh alone. EXISTS-style check first, so a late touch never recreates a destroyed
 * or expired session (a bare PEXPIRE would not either, but HSET would). KEYS: session.
 * ARGV: idleTtlMs, touchAfterMs. Returns -1 (gone), 0 (skipped) or 1 (refreshed).
 */
export const touchScript = defineScript(
  'sessionTouch',
  `${prelude}
local m = redis.call('HMGET', KEYS[1], 'a', 'r')
if not m[1] or not m[2] then return -1 end
return refresh(KEYS[1], clock(), tonumber(m[1]), tonumber(m[2]), tonumber(ARGV[1]), tonumber(ARGV[2]))`,
);

/**
 * create: a new session hash, refused if the key exists. KEYS: session. ARGV: idleTtlMs,
 * absoluteTtlMs, absoluteAt ('' = now + absoluteTtlMs), createdAt ('' = now), userId ('' = none),
 * data (JSON map). Returns { 1, now, createdAt, absoluteAt }, { 0 } if it exists, { -1 } if
 * absoluteAt has passed.
 */
export const createScript = defineScript(
  'sessionCreate',
  `${prelude}
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then return { 0 } end
local now = clock()
local a = ARGV[3] ~= '' and tonumber(ARGV[3]) or now + tonumber(ARGV[2])
local c = ARGV[4] ~= '' and tonumber(ARGV[4]) or now
if a <= now then return { -1 } end
redis.call('HSET', key, 'a', a, 'r', now, 'c', c, 'v', 1, 'd', ARGV[6])
if ARGV[5] ~= '' then redis.call('HSET', key, 'u', ARGV[5]) end
redis.call('PEXPIRE', key, math.min(tonumber(ARGV[1]), a - now))
return { 1, now, c, a }`,
);

/**
 * update: merges a patch into the data (or replaces it) inside Redis. Checks existence first: a
 * late update of a destroyed or expired session is refused, never resurrects it. With an expected
 * version it is a compare-and-set (function updates retry on conflict). The size check runs before
 * any write, so an oversized result leaves the session untouched.
 * KEYS: session. ARGV: idleTtlMs, maxSizeBytes, expectedVersion ('' = any), mode ('patch' |
 * 'replace'), userOp ('keep' | 'set' | 'unset'), userId, setCount, then setCount name/value pairs,
 * then names to delete. Returns { 0 } gone, { -1 } version conflict, { -2, size } too large, or
 * { 1, now, previousUserId or '', version, createdAt, absoluteAt }.
 */
export const updateScript = defineScript(
  'sessionUpdate',
  `${prelude}
local key = KEYS[1]
local m = redis.call('HMGET', key, 'a', 'v', 'u', 'c', 'd')
if not m[1] or not m[5] then return { 0 } end
if ARGV[3] ~= '' and m[2] ~= ARGV[3] then return { -1 } end
local now = clock()
local a = tonumber(m[1])
if a <= now then
  redis.call('DEL', key)
  return { 0 }
end
local data = {}
if ARGV[4] ~= 'replace' then data = cjson.decode(m[5]) end
local lastSet = 7 + 2 * tonumber(ARGV[7])
for i = 8, lastSet, 2 do data[ARGV[i]] = ARGV[i + 1] end
for i = lastSet + 1, #ARGV do data[ARGV[i]] = nil end
-- cjson writes '/' as '\\/'; JSON.stringify, which counted the size before this script ran, does
-- not. Unescaping keeps both counts (and the stored bytes) the same; cjson never writes a bare '/',
-- so every '\\/' in its output is that escape.
local blob = (string.gsub(cjson.encode(data), '\\\\/', '/'))
if #blob > tonumber(ARGV[2]) then return { -2, #blob } end
redis.call('HSET', key, 'd', blob, 'r', now)
local version = redis.call('HINCRBY', key, 'v', 1)
if ARGV[5] == 'set' then redis.call('HSET', key, 'u', ARGV[6])
elseif ARGV[5] == 'unset' then redis.call('HDEL', key, 'u') end
redis.call('PEXPIRE', key, math.min(tonumber(ARGV[1]), a - now))
return { 1, now, m[3] or '', version, tonumber(m[4]) or now, a }`,
);

/**
 * regenerate, first half: reads the old session and replaces it, in one step, by a tombstone that
 * points to the new handle. From this moment the old id finds nothing (the tombstone has no `a`),
 * a late update of it is refused, and a destroy of it (logout, destroyAllForUser) follows the
 * pointer to the new session. KEYS: old session. ARGV: new handle, tombstone TTL (ms).
 * Returns nil or { now, flat hash }.
 */
export const takeScript = defineScript(
  'sessionTake',
  `${prelude}
local h = redis.call('HGETALL', KEYS[1])
local a
for i = 1, #h, 2 do
  if h[i] == 'a' then a = tonumber(h[i + 1]) end
end
if not a then return false end
local now = clock()
redis.call('DEL', KEYS[1])
if a <= now then return false end
redis.call('HSET', KEYS[1], 'm', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), a - now))
return { now, h }`,
);

/**
 * destroy: deletes the session and says whose it was and where it moved. A live session leaves a
 * tombstone (a hash without 'a', which every read, touch and update treats as gone) for the rest of
 * its idle TTL, capped by its absolute lifetime: create refuses an existing key, so a framework's
 * late save of the destroyed id cannot re-create it even after the adapter has forgotten its read.
 * A regenerate's tombstone ('m') is removed only by a destroy that follows it (destroyAllForUser,
 * revoke): a plain destroy of a rotated id leaves it, so the rotation's new session survives (the
 * holder of a planted pre-login id cannot end the session that replaced it). With an expected user,
 * someone else's session is left alone. KEYS: session. ARGV: idleTtlMs, follow ('1' | '0'),
 * expected user id ('' = any).
 * Returns { 1 if a live session was deleted else 0, userId or '', moved-to handle or '' }.
 */
export const destroyScript = defineScript(
  'sessionDestroy',
  `${prelude}
local m = redis.call('HMGET', KEYS[1], 'a', 'u', 'm', 'x')
-- Already destroyed: the tombstone stays until it expires.
if m[4] then return { 0, '', '' } end
if not m[1] then
  if m[3] and ARGV[2] ~= '1' then return { 0, '', '' } end
  redis.call('DEL', KEYS[1])
  return { 0, '', m[3] or '' }
end
if ARGV[3] ~= '' and m[2] ~= ARGV[3] then return { 0, '', '' } end
redis.call('DEL', KEYS[1])
local left = math.min(tonumber(ARGV[1]), tonumber(m[1]) - clock())
if left > 0 then
  redis.call('HSET', KEYS[1], 'x', 1)
  redis.call('PEXPIRE', KEYS[1], left)
end
return { 1, m[2] or '', '' }`,
);

/** Prunes members whose absolute expiry has passed and keeps the index's own TTL at its newest member's. */
const indexPrelude = `${prelude}
local function prune(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', key, last[2]) end
end
`;

/**
 * Adds a handle to a user's index before the session is written (see engine.ts). KEYS: index.
 * ARGV: handle, absoluteAt ('' = now + absoluteTtlMs), absoluteTtlMs. Returns the score used.
 */
export const indexAddScript = defineScript(
  'sessionIndexAdd',
  `${indexPrelude}
local now = clock()
local score = ARGV[2] ~= '' and tonumber(ARGV[2]) or now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], score, ARGV[1])
prune(KEYS[1], now)
return score`,
);

/** The live part of a user's index after pruning by score. KEYS: index. Returns handles. */
export const indexListScript = defineScript(
  'sessionIndexList',
  `${indexPrelude}
prune(KEYS[1], clock())
return redis.call('ZRANGE', KEYS[1], 0, -1)`,
);

/**
 * destroyAllForUser, first half: takes every handle out of the index (but `except`) before the
 * sessions are deleted, so a session created concurrently either sees its handle gone (and deletes
 * itself) or was indexed after this and is a later login. KEYS: index. ARGV: except handle or ''.
 * Returns the handles removed.
 */
export const indexTakeScript = defineScript(
  'sessionIndexTake',
  `${indexPrelude}
prune(KEYS[1], clock())
local taken = {}
for _, handle in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if handle ~= ARGV[1] then
    redis.call('ZREM', KEYS[1], handle)
    taken[#taken + 1] = handle
  end
end
return taken`,
);
