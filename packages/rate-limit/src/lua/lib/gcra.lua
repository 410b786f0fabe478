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
  local remaining = math.floor((capacity - (tat - now) + 0.5) / interval)
  if fits then return 1, remaining, math.ceil(tat - now), 0 end
  return 0, remaining, math.ceil(tat - now), math.ceil(after - now - capacity)
end
