-- Read or write attempts of read/write locks, one or many in one call (the attempts of one tick
-- and one hash slot, in call order).
-- KEYS: readers, writer, intents, fence of each attempt. ARGV: five per attempt: mode ('r' or
-- 'w'), owner, ttlMs, intent id (of the waiting acquireWrite call), intentMs ('0': do not mark).
-- Returns two integers per attempt: 1 and the fencing token when granted; else 0 and the ms until
-- the earliest of what blocks it (a holder's TTL, a waiting writer's intent) runs out.
--
-- readers and writer are sorted sets of owners scored by expiry in server ms (writer has at most
-- one member); intents holds the writers that wait, scored by when their intent lapses. A reader
-- enters only while there is no writer and no live intent: a waiting writer stops new readers, so
-- a stream of readers cannot starve it, and a writer that died while waiting blocks readers for
-- at most intentMs (each attempt of a live one renews it). A writer enters when there is neither
-- a writer nor a reader, and its grant withdraws its intent.
--!include server-now
--!include expire-at-least
local now_ms = tostring(now)
local out = {}
local function earliest(key, best)
  local first = redis.call('ZRANGE', key, '0', '0', 'WITHSCORES')
  if first[2] and (not best or tonumber(first[2]) < best) then return tonumber(first[2]) end
  return best
end
for i = 0, #KEYS / 4 - 1 do
  local readers, writer, intents, fence = KEYS[i * 4 + 1], KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4]
  local a = i * 5
  local mode, owner, ttl, intent, intent_ms = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  for _, key in ipairs({ readers, writer, intents }) do redis.call('ZREMRANGEBYSCORE', key, '-inf', now_ms) end
  local blocked
  if mode == 'r' then
    blocked = redis.call('ZCARD', writer) > 0 or redis.call('ZCARD', intents) > 0
  else
    blocked = redis.call('ZCARD', writer) > 0 or redis.call('ZCARD', readers) > 0
  end
  if not blocked then
    local holders = readers
    if mode == 'w' then
      holders = writer
      redis.call('ZREM', intents, intent)
    end
    local expiry = tostring(now + tonumber(ttl))
    redis.call('ZADD', holders, expiry, owner)
    expire_at_least(holders, expiry)
    out[#out + 1] = 1
    out[#out + 1] = redis.call('INCR', fence)
  else
    if mode == 'w' and intent_ms ~= '0' then
      local lapse = tostring(now + tonumber(intent_ms))
      redis.call('ZADD', intents, lapse, intent)
      expire_at_least(intents, lapse)
    end
    local until_ms = earliest(writer, nil)
    if mode == 'r' then until_ms = earliest(intents, until_ms) else until_ms = earliest(readers, until_ms) end
    out[#out + 1] = 0
    out[#out + 1] = (until_ms or now) - now
  end
end
return out
