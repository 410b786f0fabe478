-- The worker's one round trip: settles finished jobs (ack, retry, dead letter), leases the id a
-- BLMOVE parked in `active` (if any), and takes up to `want` more jobs from waiting with their data.
-- Settling checks the owner first: a worker whose lease expired (and whose job went to someone
-- else) cannot ack or fail that other run.
-- KEYS: waiting, leases, owners, active, delayed, dead, done, stats, jobPrefix.
-- ARGV: token, leaseMs, want, claimId ('' for none), keepDoneCount, keepDoneAgeMs, keepDeadCount,
--       keepDeadAgeMs, settleCount, then (id, outcome done|retry|dead, text, delayMs) per settled
--       job; text is the result of a done job (stored only if completed jobs are kept), else the
--       error.
-- Returns { lost ids, flat (id, d, n, s) per leased job, how many ids were popped from waiting }.
--!include now
--!include trim
local waiting, leases, owners, active, delayed, dead, done, stats, prefix =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local token, settleCount = ARGV[1], tonumber(ARGV[9])
local lost = {}
if settleCount > 0 then
  local ids = {}
  for k = 0, settleCount - 1 do ids[#ids + 1] = ARGV[10 + 4 * k] end
  local holders = redis.call('HMGET', owners, unpack(ids))
  local keepDone = tonumber(ARGV[5])
  local finished, doneKeys, kept, completed, failed, buried = {}, {}, {}, 0, 0, 0
  for k = 1, settleCount do
    local id, base = ids[k], 10 + 4 * (k - 1)
    if holders[k] ~= token then
      lost[#lost + 1] = id
    else
      finished[#finished + 1] = id
      local outcome, text, delay, job = ARGV[base + 1], ARGV[base + 2], tonumber(ARGV[base + 3]), prefix .. id
      if outcome == 'done' then
        completed = completed + 1
        if keepDone == 0 then
          doneKeys[#doneKeys + 1] = job
        else
          redis.call('HSET', job, 'f', now, 'r', text)
          kept[#kept + 1] = now
          kept[#kept + 1] = id
        end
      else
        failed = failed + 1
        redis.call('HINCRBY', job, 'n', 1)
        if outcome == 'retry' then
          redis.call('HSET', job, 'e', text)
          if delay > 0 then redis.call('ZADD', delayed, now + delay, id) else redis.call('LPUSH', waiting, id) end
        else
          redis.call('HSET', job, 'e', text, 'dr', 'failed', 'f', now)
          redis.call('ZADD', dead, now, id)
          buried = buried + 1
        end
      end
    end
  end
  if #finished > 0 then
    redis.call('ZREM', leases, unpack(finished))
    redis.call('HDEL', owners, unpack(finished))
  end
  if #doneKeys > 0 then redis.call('DEL', unpack(doneKeys)) end
  if completed > 0 then redis.call('HINCRBY', stats, 'completed', completed) end
  if #kept > 0 then
    redis.call('ZADD', done, unpack(kept))
    trim(done, prefix, keepDone, tonumber(ARGV[6]), now)
  end
  if failed > 0 then redis.call('HINCRBY', stats, 'failed', failed) end
  if buried > 0 then
    local dropped = trim(dead, prefix, tonumber(ARGV[7]), tonumber(ARGV[8]), now)
    if dropped > 0 then redis.call('HINCRBY', stats, 'discarded', dropped) end
  end
end

local jobs, leaseArgs, ownerArgs, deadline = {}, {}, {}, now + tonumber(ARGV[2])
local function lease(id)
  local f = redis.call('HMGET', prefix .. id, 'd', 'n', 's')
  if not f[1] then return end -- purged while it waited
  leaseArgs[#leaseArgs + 1] = deadline
  leaseArgs[#leaseArgs + 1] = id
  ownerArgs[#ownerArgs + 1] = id
  ownerArgs[#ownerArgs + 1] = token
  jobs[#jobs + 1] = id
  jobs[#jobs + 1] = f[1]
  jobs[#jobs + 1] = f[2]
  jobs[#jobs + 1] = f[3]
end
-- A BLMOVE'd id is leased only if still parked: after a long pause the rescue may have moved it.
local claim = ARGV[4]
if claim ~= '' and redis.call('LREM', active, -1, claim) > 0 then lease(claim) end
local popped = 0
if tonumber(ARGV[3]) > 0 then
  local ids = redis.call('RPOP', waiting, ARGV[3])
  if ids then
    popped = #ids
    for _, id in ipairs(ids) do lease(id) end
  end
end
if #leaseArgs > 0 then
  redis.call('ZADD', leases, unpack(leaseArgs))
  redis.call('HSET', owners, unpack(ownerArgs))
end
return { lost, jobs, popped }
