-- The stalled-job check any worker runs: expired leases go back to the front of waiting, and so do
-- ids parked in `active` for `graceMs` (their worker died between BLMOVE and taking the lease; the
-- first time the check sees a parked id it notes the time in `orphans`). Each rescue counts a
-- stall; beyond `maxStalls` the job goes to the dead-letter set instead, and the dead set is
-- trimmed to keepDeadCount / keepDeadAgeMs.
-- KEYS: the base block (lib/base.lua), then leases, owners, active, orphans, dead.
-- ARGV: maxStalls, graceMs, keepDeadCount, keepDeadAgeMs, limit (expired leases per call).
-- Returns { flat (id, stalls) of requeued jobs, dead ids }.
--!include base
--!include now
--!include trim
--!include ready
--!include emit
--!include groups
--!include bury-cancelled
local leases, owners, active, orphans, dead = KEYS[14], KEYS[15], KEYS[16], KEYS[17], KEYS[18]
local stats, prefix = K.stats, K.prefix
local maxStalls, grace = tonumber(ARGV[1]), tonumber(ARGV[2])
local requeued, buried = {}, {}
local function stall(id, leased)
  local job = prefix .. id
  if redis.call('EXISTS', job) == 0 then return end
  local f = redis.call('HMGET', job, 'p', 'g')
  if leased then groupDone(K, f[2]) end
  if buryCancelled(K, id, dead) then
    buried[#buried + 1] = id
    return
  end
  local stalls = redis.call('HINCRBY', job, 's', 1)
  emit(K, 'stalled', id, 's', stalls)
  redis.call('HINCRBY', stats, 'stalled', 1)
  if stalls > maxStalls then
    redis.call('HSET', job, 'dr', 'stalled', 'f', now, 'e',
      'stalled ' .. stalls .. ' times: its worker stopped renewing the lease (crash, kill, or a blocked event loop)')
    redis.call('ZADD', dead, now, id)
    buried[#buried + 1] = id
    emit(K, 'dead', id, 'x', 'stalled ' .. stalls .. ' times', 'dr', 'stalled')
  else
    ready(K, id, true, f[1], f[2])
    requeued[#requeued + 1] = id
    requeued[#requeued + 1] = stalls
  end
end
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
if #expired > 0 then
  redis.call('ZREM', leases, unpack(expired))
  redis.call('HDEL', owners, unpack(expired))
  for _, id in ipairs(expired) do stall(id, true) end
end
local parked = {}
for _, id in ipairs(redis.call('LRANGE', active, 0, -1)) do
  local since = redis.call('HGET', orphans, id)
  if not since then
    redis.call('HSET', orphans, id, now)
    parked[id] = true
  elseif now - tonumber(since) >= grace then
    redis.call('HDEL', orphans, id)
    redis.call('LREM', active, -1, id)
    if id ~= '' then stall(id, false) else wake(K) end
  else
    parked[id] = true
  end
end
-- Marks of ids a worker leased meanwhile.
for _, id in ipairs(redis.call('HKEYS', orphans)) do
  if not parked[id] then redis.call('HDEL', orphans, id) end
end
if #buried > 0 then
  local dropped = trim(dead, prefix, tonumber(ARGV[3]), tonumber(ARGV[4]), now)
  if dropped > 0 then redis.call('HINCRBY', stats, 'discarded', dropped) end
end
return { requeued, buried }
