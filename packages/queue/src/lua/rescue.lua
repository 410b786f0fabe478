-- The stalled-job check any worker runs: expired leases go back to the front of waiting, and so do
-- ids parked in `active` for `graceMs` (their worker died between BLMOVE and taking the lease; the
-- first time the check sees a parked id it notes the time in `orphans`). Each rescue counts a
-- stall; beyond `maxStalls` the job goes to the dead-letter set instead, and the dead set is
-- trimmed to keepDeadCount / keepDeadAgeMs.
-- KEYS: waiting, leases, owners, active, orphans, dead, stats, jobPrefix.
-- ARGV: maxStalls, graceMs, keepDeadCount, keepDeadAgeMs, limit (expired leases per call).
-- Returns { flat (id, stalls) of requeued jobs, dead ids }.
--!include now
--!include trim
local waiting, leases, owners, active, orphans, dead, stats, prefix =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local maxStalls, grace = tonumber(ARGV[1]), tonumber(ARGV[2])
local requeued, buried = {}, {}
local function stall(id)
  local job = prefix .. id
  if redis.call('EXISTS', job) == 0 then return end
  local stalls = redis.call('HINCRBY', job, 's', 1)
  redis.call('HINCRBY', stats, 'stalled', 1)
  if stalls > maxStalls then
    redis.call('HSET', job, 'dr', 'stalled', 'f', now, 'e',
      'stalled ' .. stalls .. ' times: its worker stopped renewing the lease (crash, kill, or a blocked event loop)')
    redis.call('ZADD', dead, now, id)
    buried[#buried + 1] = id
  else
    redis.call('RPUSH', waiting, id)
    requeued[#requeued + 1] = id
    requeued[#requeued + 1] = stalls
  end
end
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
if #expired > 0 then
  redis.call('ZREM', leases, unpack(expired))
  redis.call('HDEL', owners, unpack(expired))
  for _, id in ipairs(expired) do stall(id) end
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
    stall(id)
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
