-- destroy: deletes the session and says whose it was and where it moved. A live session leaves a
-- tombstone (a hash without 'a', which every read, touch and update treats as gone) for the rest of
-- its idle TTL, capped by its absolute lifetime: create refuses an existing key, so a framework's
-- late save of the destroyed id cannot re-create it even after the adapter has forgotten its read.
-- A regenerate's tombstone ('m') is removed only by a destroy that follows it (destroyAllForUser,
-- revoke): a plain destroy of a rotated id leaves it, so the rotation's new session survives (the
-- holder of a planted pre-login id cannot end the session that replaced it). With an expected user,
-- someone else's session is left alone, and an id with no key at all gets a tombstone for a
-- while: a login sends its index entry and its session together, so destroyAllForUser can reach
-- the entry before the session is written, which then finds the id taken. KEYS: session. ARGV:
-- idleTtlMs, follow ('1' | '0'), expected user id ('' = any), that tombstone's TTL (ms).
-- Returns { 1 if a live session was deleted else 0, userId or '', moved-to handle or '' }.
--!include clock
local key = KEYS[1]
local m = redis.call('HMGET', key, 'a', 'u', 'm', 'x', 'i')
-- Already destroyed: the tombstone stays until it expires.
if m[4] then return { 0, '', '' } end
if not m[1] then
  if m[3] and ARGV[2] ~= '1' then return { 0, '', '' } end
  if m[3] then redis.call('DEL', key) end
  if not m[3] and ARGV[3] ~= '' then
    redis.call('HSET', key, 'x', 1)
    redis.call('PEXPIRE', key, ARGV[4])
  end
  return { 0, '', m[3] or '' }
end
if ARGV[3] ~= '' and m[2] ~= ARGV[3] then return { 0, '', '' } end
redis.call('DEL', key)
local left = math.min(tonumber(m[5]) or tonumber(ARGV[1]), tonumber(m[1]) - clock())
if left > 0 then
  redis.call('HSET', key, 'x', 1)
  redis.call('PEXPIRE', key, left)
end
return { 1, m[2] or '', '' }
