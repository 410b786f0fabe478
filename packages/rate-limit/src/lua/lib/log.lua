-- Sliding log: log(key, limit, window, apply), an algorithm function as lib/cost describes.
--
-- A list of the server times (µs) of the units admitted, newest at the head; an entry is live while
-- its time > now - window. A list rather than a sorted set: pushing at the head and popping expired
-- entries at the tail touch only the ends, where a sorted set's ZADD and ZREMRANGEBYSCORE search and
-- parse every score, and an entry takes ~10 bytes instead of ~120. The times go in in order (one
-- server's clock); if that clock steps back, an entry may sit behind a newer one and be counted
-- until it reaches the tail, so the log refuses early.
--
-- An admitted check of cost 1 is three to five calls, each at an end of the list: LINDEX the tail,
-- and if it has expired RPOP it and look again (a busy key loses about one entry per push), then
-- LPUSH (its reply is the count) and PEXPIREAT. A refused one is popped again.
--!include clock
--!include expires-at
local logMember = string.format('%d', now)
local logExpireAt, logExpireWindow

-- Drops the expired entries at the tail (the oldest). Peeks drop them too: that changes no
-- decision, and a peek that left them would read them all again next time. Returns the oldest live
-- entry (nil when none), whose leaving gives back the next unit.
local function logExpire(key, edge)
  local tail = redis.call('LINDEX', key, '-1')
  if not tail or tonumber(tail) > edge then return tail end
  redis.call('RPOP', key)
  tail = redis.call('LINDEX', key, '-1')
  if not tail or tonumber(tail) > edge then return tail end
  -- More than one expired (the key was idle): look at 2, 4, 8... entries at a time.
  local k = 2
  while true do
    local entries = redis.call('LRANGE', key, -k, -1)
    local n, e = #entries, 0
    while e < n and tonumber(entries[n - e]) <= edge do e = e + 1 end
    -- LTRIM rather than RPOP with a count, which needs Redis 6.2.
    if e > 0 then redis.call('LTRIM', key, 0, -(e + 1)) end
    if e < k then return entries[n - e] end
    k = k * 2
  end
end

-- The key outlives its newest entry by a window (worked out once per window in a call).
local function logTouch(key, window)
  if window ~= logExpireWindow then
    logExpireWindow = window
    logExpireAt = expiresAt(now + window)
  end
  redis.call('PEXPIREAT', key, logExpireAt)
end

local function log(key, limit, window, apply)
  local oldest = logExpire(key, now - window)
  -- Until the next unit: when the oldest live entry leaves (0 with none).
  local nextUnit = oldest and math.ceil(math.max(1, oldest + window - now)) or 0
  local count
  if apply and cost == 1 then
    -- Push first: LPUSH replies with the count, which saves an LLEN; a refused push is popped again.
    count = redis.pcall('LPUSH', key, logMember)
    if type(count) == 'table' then
      -- Redis refused the write (out of memory: LPUSH may grow memory, the pops above may not):
      -- count without it, so a call that does not fit is still refused, and one that fits fails
      -- with that error at the LPUSH below. A failed save or too few replicas refuse every write,
      -- so there the pops above fail first when entries have left the window.
      count = redis.call('LLEN', key)
    elseif count <= limit then
      logTouch(key, window)
      return 1, limit - count, window, 0, oldest and nextUnit or window
    else
      redis.call('LPOP', key)
      count = count - 1
    end
  else
    count = redis.call('LLEN', key)
  end
  if count + cost <= limit then
    if not apply then
      local reset = 0
      if count > 0 then reset = math.max(0, redis.call('LINDEX', key, '0') + window - now) end
      return 1, limit - count, math.ceil(reset), 0, nextUnit
    end
    -- In chunks of 500: unpack() of one huge argument list overflows Lua's C stack.
    local args = { 'LPUSH', key }
    for _ = 1, cost do
      args[#args + 1] = logMember
      if #args >= 502 then
        redis.call(unpack(args))
        args = { 'LPUSH', key }
      end
    end
    if #args > 2 then redis.call(unpack(args)) end
    logTouch(key, window)
    return 1, limit - count - cost, window, 0, oldest and nextUnit or window
  end
  -- Refused and not recorded: live entries are the first 'count', newest first, so the one that
  -- must leave before 'cost' fits is at index limit - cost.
  local leaves = redis.call('LINDEX', key, limit - cost)
  local newest = redis.call('LINDEX', key, '0')
  -- Over the limit (after a penalty, or under a lower limit): a unit is back when the entry at
  -- index limit - 1 leaves, not the oldest.
  if count > limit then
    nextUnit = math.ceil(math.max(1, redis.call('LINDEX', key, limit - 1) + window - now))
  end
  return 0, math.max(0, limit - count), math.ceil(math.max(1, newest + window - now)),
    math.ceil(math.max(1, leaves + window - now)), nextUnit
end
