-- The worker's one round trip: settles finished jobs (ack, retry, dead letter, cancelled), leases
-- the id a BLMOVE parked in `active` (if any), and takes up to `want` more jobs with their data:
-- prioritized jobs first (highest priority first), then plain jobs (FIFO), then grouped jobs (one
-- per runnable group per turn of the rotation). The queue's pause and limits (lib/base.lua) cap what
-- it takes. Settling checks the owner first: a worker whose lease expired (and whose job went to
-- someone else) cannot ack or fail that other run.
-- KEYS: the base block (lib/base.lua), then leases, owners, active, dead, done.
-- ARGV: token, leaseMs, want, claim ('' for none, else '=' .. the parked id; '=' alone is the wake
--       marker), keepDoneCount, keepDoneAgeMs, keepDeadCount, keepDeadAgeMs, settleCount, then
--       (id, outcome done|retry|dead|cancel, text, delayMs, priority, group) per settled job; text
--       is the result of a done job, else the error.
-- Returns { lost ids, flat (id, d, n, s, p, g, lag, tc) per leased job, ids taken from waiting, hold }
-- (lag: ms since the `t` of lib/stamp.lua, when the job has one; tc: its trace context, if any);
-- hold is 0, or why fewer jobs were taken than wanted: -1 paused, -2 the queue-wide concurrency
-- limit, > 0 ms until the queue-wide rate window ends (or, with group rate limits, until the next
-- held group may run again).
--!include base
--!include now
--!include trim
--!include ready
--!include emit
--!include groups
--!include bury-cancelled
local leases, owners, active, dead, done = KEYS[14], KEYS[15], KEYS[16], KEYS[17], KEYS[18]
local token, settleCount = ARGV[1], tonumber(ARGV[9])
local lost, woke = {}, false
if settleCount > 0 then
  local ids = {}
  for k = 0, settleCount - 1 do ids[#ids + 1] = ARGV[10 + 6 * k] end
  local holders = redis.call('HMGET', owners, unpack(ids))
  local keepDone = tonumber(ARGV[5])
  local finished, doneKeys, kept, completed, failed, buried = {}, {}, {}, 0, 0, 0
  for k = 1, settleCount do
    local id, base = ids[k], 10 + 6 * (k - 1)
    if holders[k] ~= token then
      lost[#lost + 1] = id
    else
      finished[#finished + 1] = id
      local outcome, text, delay, job = ARGV[base + 1], ARGV[base + 2], tonumber(ARGV[base + 3]), K.prefix .. id
      local p, g = ARGV[base + 4], ARGV[base + 5]
      if groupDone(K, g) then woke = true end
      if outcome == 'done' then
        completed = completed + 1
        emit(K, 'completed', id, 'r', text)
        if keepDone == 0 then
          doneKeys[#doneKeys + 1] = job
        else
          redis.call('HSET', job, 'f', now, 'r', text)
          kept[#kept + 1] = now
          kept[#kept + 1] = id
        end
      else
        local n = redis.call('HINCRBY', job, 'n', 1)
        if outcome ~= 'cancel' then
          failed = failed + 1
          emit(K, 'failed', id, 'x', text, 'a', n)
        end
        if outcome == 'retry' and buryCancelled(K, id, dead) then
          buried = buried + 1
        elseif outcome == 'retry' then
          redis.call('HSET', job, 'e', text)
          emit(K, 'retrying', id, 'a', n + 1, 'w', delay)
          if delay > 0 then redis.call('ZADD', K.delayed, now + delay, id) else ready(K, id, false, p, g) end
        else
          local reason = outcome == 'cancel' and 'cancelled' or 'failed'
          redis.call('HSET', job, 'e', text, 'dr', reason, 'f', now)
          redis.call('ZADD', dead, now, id)
          buried = buried + 1
          emit(K, reason == 'cancelled' and 'cancelled' or 'dead', id, 'x', text, 'dr', reason)
        end
      end
    end
  end
  if #finished > 0 then
    redis.call('ZREM', leases, unpack(finished))
    redis.call('HDEL', owners, unpack(finished))
  end
  if #doneKeys > 0 then redis.call('DEL', unpack(doneKeys)) end
  if completed > 0 then redis.call('HINCRBY', K.stats, 'completed', completed) end
  if #kept > 0 then
    redis.call('ZADD', done, unpack(kept))
    trim(done, K.prefix, keepDone, tonumber(ARGV[6]), now)
  end
  if failed > 0 then redis.call('HINCRBY', K.stats, 'failed', failed) end
  if buried > 0 then
    local dropped = trim(dead, K.prefix, tonumber(ARGV[7]), tonumber(ARGV[8]), now)
    if dropped > 0 then redis.call('HINCRBY', K.stats, 'discarded', dropped) end
  end
end
if woke then wake(K) end

local jobs, leaseArgs, ownerArgs, deadline = {}, {}, {}, now + tonumber(ARGV[2])
local function lease(id, g)
  local f = redis.call('HMGET', K.prefix .. id, 'd', 'n', 's', 'p', 'g', 'cx', 't', 'tc')
  if not f[1] or f[6] then
    -- Removed while it waited, or cancelled while it ran before; a grouped job was counted as
    -- running already.
    if f[6] then buryCancelled(K, id, dead) end
    if g then groupDone(K, g) end
    return 0
  end
  leaseArgs[#leaseArgs + 1] = deadline
  leaseArgs[#leaseArgs + 1] = id
  ownerArgs[#ownerArgs + 1] = id
  ownerArgs[#ownerArgs + 1] = token
  jobs[#jobs + 1] = id
  for j = 1, 5 do jobs[#jobs + 1] = f[j] end
  jobs[#jobs + 1] = f[7] and tostring(now - tonumber(f[7])) or false
  jobs[#jobs + 1] = f[8]
  emit(K, 'active', id, 'a', (tonumber(f[2]) or 0) + 1)
  return 1
end

-- How many jobs the queue's pause and queue-wide limits allow now.
local allow, hold = tonumber(ARGV[3]), 0
local claim = ARGV[4]
local claimed = claim ~= '' and redis.call('LREM', active, -1, string.sub(claim, 2)) > 0
  and string.sub(claim, 2) or ''
-- A wake marker taken (by BLMOVE, or popped below) wakes the next worker while jobs wait elsewhere.
local marker = claim == '='
if claimed ~= '' then allow = allow + 1 end
if K.paused then
  allow, hold = 0, -1
else
  if K.c > 0 then
    local free = K.c - redis.call('ZCARD', leases) - redis.call('LLEN', active)
    if free < allow then allow, hold = math.max(free, 0), -2 end
  end
  if K.rm > 0 then
    local left = K.rm - (tonumber(redis.call('GET', K.rate)) or 0)
    if left < allow then
      allow = math.max(left, 0)
      local ttl = redis.call('PTTL', K.rate)
      hold = ttl > 0 and ttl or K.ri
    end
  end
end

local taken = 0
-- A BLMOVE'd id is leased only if still parked (after a long pause the rescue may have moved it),
-- and goes back to the front of waiting when the queue is paused or at its limit.
if claimed ~= '' then
  if allow > 0 then
    taken = taken + lease(claimed)
  else
    redis.call('RPUSH', K.waiting, claimed)
  end
end
if taken < allow then
  local popped = redis.call('ZPOPMIN', K.prio, allow - taken)
  for j = 1, #popped, 2 do taken = taken + lease(popped[j]) end
end
local fromWaiting = 0
if taken < allow then
  local ids = redis.call('RPOP', K.waiting, allow - taken)
  if ids then
    fromWaiting = #ids
    for _, id in ipairs(ids) do
      if id ~= '' then taken = taken + lease(id) else marker = true end
    end
  end
end
if taken < allow and redis.call('LLEN', K.groups) + redis.call('ZCARD', K.gheld) > 0 then
  -- Groups whose rate window ended may run again.
  if K.grm > 0 then
    for _, g in ipairs(redis.call('ZRANGEBYSCORE', K.gheld, '-inf', now, 'LIMIT', 0, 100)) do
      redis.call('ZREM', K.gheld, g)
      if redis.call('LLEN', K.gprefix .. g) > 0 then redis.call('RPUSH', K.groups, g) end
    end
  end
  -- One job per runnable group per pass over the rotation; a group at a limit leaves the rotation
  -- for `gheld` (+inf: until one of its jobs stops running; else until its rate window ends).
  local turns, progressed = redis.call('LLEN', K.groups), false
  while taken < allow do
    if turns == 0 then
      if not progressed then break end
      turns, progressed = redis.call('LLEN', K.groups), false
      if turns == 0 then break end
    end
    turns = turns - 1
    local g = redis.call('LMOVE', K.groups, K.groups, 'LEFT', 'RIGHT')
    local list, rateKey, heldUntil = K.gprefix .. g, K.grprefix .. g, nil
    if K.gc > 0 and (tonumber(redis.call('HGET', K.gactive, g)) or 0) >= K.gc then heldUntil = '+inf' end
    if not heldUntil and K.grm > 0 and (tonumber(redis.call('GET', rateKey)) or 0) >= K.grm then
      local ttl = redis.call('PTTL', rateKey)
      heldUntil = now + (ttl > 0 and ttl or K.gri)
    end
    if heldUntil then
      redis.call('LREM', K.groups, -1, g)
      redis.call('ZADD', K.gheld, heldUntil, g)
    else
      local id = redis.call('RPOP', list)
      if id then
        redis.call('HINCRBY', K.gactive, g, 1)
        if K.grm > 0 and redis.call('INCR', rateKey) == 1 then redis.call('PEXPIRE', rateKey, K.gri) end
        taken = taken + lease(id, g)
        progressed = true
      end
      if redis.call('LLEN', list) == 0 then redis.call('LREM', K.groups, -1, g) end
    end
  end
  if hold == 0 and taken < allow and K.grm > 0 then
    local first = redis.call('ZRANGE', K.gheld, 0, 0, 'WITHSCORES')
    if first[2] and first[2] ~= 'inf' then hold = math.max(1, tonumber(first[2]) - now) end
  end
end
if marker and redis.call('ZCARD', K.prio) + redis.call('LLEN', K.groups) > 0 then wake(K) end
if #leaseArgs > 0 then
  redis.call('ZADD', leases, unpack(leaseArgs))
  redis.call('HSET', owners, unpack(ownerArgs))
  if K.rm > 0 then
    local used = redis.call('INCRBY', K.rate, #ownerArgs / 2)
    if used == #ownerArgs / 2 then redis.call('PEXPIRE', K.rate, K.ri) end
  end
end
return { lost, jobs, fromWaiting, hold }
