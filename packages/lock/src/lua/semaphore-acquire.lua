-- Permit attempts of counting semaphores, one or many in one call (the attempts of one tick and
-- one hash slot, in call order).
-- KEYS: holders, fence of each attempt. ARGV: three per attempt: owner, permits (the caller's
-- limit), ttlMs. Returns four integers per attempt: when granted 1, the fencing token, the slot and
-- how many permits the caller's limit still leaves free; else 0, the ms until the earliest
-- holder's TTL runs out, -1 and 0.
--
-- `holders` is a sorted set: member `<slot>:<owner>`, score = the holder's expiry in server ms.
-- Expired holders are dropped before counting, so a crashed holder frees its permit at its TTL.
-- A grant takes the lowest slot no live holder has: slots are < permits whenever the caller's
-- limit admits it (fewer than `permits` holders leave a slot below `permits` free), and a slot's
-- next holder is granted only after its previous one is gone, so per slot the tokens rise as they
-- do for a mutex.
--!include server-now
--!include expire-at-least
local out = {}
local now_ms = tostring(now)
for i = 0, #KEYS / 2 - 1 do
  local holders, fence = KEYS[i * 2 + 1], KEYS[i * 2 + 2]
  local a = i * 3
  local owner, permits, ttl = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  redis.call('ZREMRANGEBYSCORE', holders, '-inf', now_ms)
  local members = redis.call('ZRANGE', holders, '0', '-1')
  if #members < permits then
    local used = {}
    for _, member in ipairs(members) do used[tonumber(string.match(member, '^(%d+):'))] = true end
    local slot = 0
    while used[slot] do slot = slot + 1 end
    local expiry = tostring(now + ttl)
    redis.call('ZADD', holders, expiry, slot .. ':' .. owner)
    expire_at_least(holders, expiry)
    out[#out + 1] = 1
    out[#out + 1] = redis.call('INCR', fence)
    out[#out + 1] = slot
    out[#out + 1] = permits - #members - 1
  else
    local first = redis.call('ZRANGE', holders, '0', '0', 'WITHSCORES')
    out[#out + 1] = 0
    out[#out + 1] = tonumber(first[2]) - now
    out[#out + 1] = -1
    out[#out + 1] = 0
  end
end
return out
