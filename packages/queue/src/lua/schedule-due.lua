-- The schedules due now (server clock), for a scheduler to fire, and when the next one is due.
-- A due entry whose spec is gone (only a hand edit can do that) is dropped rather than returned on
-- every tick. KEYS: schedules, schednext. ARGV: limit.
-- Returns { now, next due ms after now or false, (id, due ms, spec)* }.
--!include now
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
local later = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local out = { now, later[2] or false }
for j = 1, #due, 2 do
  local spec = redis.call('HGET', KEYS[1], due[j])
  if spec then
    out[#out + 1] = due[j]
    out[#out + 1] = due[j + 1]
    out[#out + 1] = spec
  else
    redis.call('ZREM', KEYS[2], due[j])
  end
end
return out
