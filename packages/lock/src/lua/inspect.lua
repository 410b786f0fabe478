-- Reads who holds one name and who waits for it, whatever kind of lock the name is, in one atomic
-- step (the inspect API; it writes nothing). KEYS: base `<prefix>{name}`, fence, waiters, queue,
-- marks, readers, writer, intents (the layouts of commands/index.ts, semaphore.ts, rw-lock.ts).
-- ARGV: most members returned per set. Returns {kind, fence, now, a, b, c, holders}: kind is
-- 'mutex', 'semaphore', 'read-write' or 'none'; fence the counter (false if absent); now the
-- server's clock in ms; holders how many live holders there are in all (a..c may be cut at ARGV[1]).
--   mutex:      a = {owner, pttl} or {}, b = waiting instances, c = fair queue (owner, mark expiry)
--   semaphore:  a = live holders (member `<slot>:<owner>`, expiry), b = c = {}
--   read-write: a = live readers, b = live writer, c = live writer intents (each: member, expiry)
-- Expiries are scores: server ms, but the instance marks of `waiters` are in their processes' ms.
--!include server-now
local base, fence, waiters, queue, marks, readers, writer, intents =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local cap = ARGV[1]
local after = '(' .. tostring(now)
local function live(key)
  return redis.call('ZRANGEBYSCORE', key, after, '+inf', 'WITHSCORES', 'LIMIT', '0', cap)
end
local token = redis.call('GET', fence)
local kind = redis.call('TYPE', base)['ok']
if kind == 'string' then
  local fair = {}
  for _, owner in ipairs(redis.call('LRANGE', queue, '0', tostring(tonumber(cap) - 1))) do
    local expiry = redis.call('ZSCORE', marks, owner)
    if expiry and tonumber(expiry) > now then
      fair[#fair + 1] = owner
      fair[#fair + 1] = expiry
    end
  end
  local owner = redis.call('GET', base)
  return {'mutex', token, now, {owner, redis.call('PTTL', base)}, live(waiters), fair, 1}
end
if kind == 'zset' then
  return {'semaphore', token, now, live(base), {}, {}, redis.call('ZCOUNT', base, after, '+inf')}
end
if redis.call('EXISTS', readers, writer, intents) > 0 then
  local count = redis.call('ZCOUNT', readers, after, '+inf') + redis.call('ZCOUNT', writer, after, '+inf')
  return {'read-write', token, now, live(readers), live(writer), live(intents), count}
end
if redis.call('EXISTS', waiters, queue) > 0 then
  return {'mutex', token, now, {}, live(waiters), {}, 0}
end
return {'none', token, now, {}, {}, {}, 0}
