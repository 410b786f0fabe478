-- GCRA (token bucket): gcra(key, burst, interval, apply), an algorithm function as lib/cost
-- describes.
--
-- The theoretical arrival time (TAT), one number; the bucket is full when TAT <= now. It sets its
-- TTL with SET PX, so it does without lib/expires-at.
--!include clock
local function gcra(key, burst, interval, apply)
  local tat = redis.call('GET', key)
  tat = tat and tonumber(tat) or now
  if tat < now then tat = now end
  local capacity = burst * interval
  local after = tat + cost * interval
  -- Sums of fractional intervals round: half a microsecond of slack absorbs that.
  local fits = after - now <= capacity + 0.5
  if fits and apply then
    -- The TTL as a string: Redis formats a Lua number argument with printf, a third of the call.
    -- One ms more than the time to TAT: Redis counts PX from its clock cut to the millisecond (PXAT,
    -- exact, needs Redis 6.2).
    redis.call('SET', key, after, 'PX', string.format('%d', math.ceil((after - now) / 1000) + 1))
    tat = after
  end
  local used = tat - now
  local remaining = math.floor((capacity - used + 0.5) / interval)
  -- Until the next token: the time for `used` to fall to what leaves one more token than now.
  local nextUnit = 0
  if used > 0 then nextUnit = math.ceil(math.max(0, used - capacity + (math.max(0, remaining) + 1) * interval)) end
  if fits then return 1, remaining, math.ceil(used), 0, nextUnit end
  return 0, remaining, math.ceil(used), math.ceil(after - now - capacity), nextUnit
end
