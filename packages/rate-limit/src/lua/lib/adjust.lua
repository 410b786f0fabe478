-- Penalties and rewards: adjust[code](key, a, b, add) adds `cost` units to a limit's count without
-- a check (add true, a penalty) or gives `cost` units back (add false, a reward or refund), never
-- below zero. `cost` and `costArg` come from lib/cost. A penalty can take a count above the limit:
-- calls are refused until enough of it has expired. `charged` (µs, the server time of the call a
-- refund gives back; nil for a reward) limits a refund to the window that call was charged to:
-- once that window has passed, or its log entries have expired, the refund gives back nothing,
-- so a late refund never raises a later window's quota.
--!include cost
--!include expires-at
--!include log

-- Fixed window: within the live window change its count; a penalty with no live window opens one.
local function fixedAdjust(key, _, window, add, charged)
  local s = redis.call('HGET', key, 's')
  if s and charged and charged < tonumber(s) then return end
  if s and now < tonumber(s) + window then
    if redis.call('HINCRBY', key, 'c', add and costArg or '-' .. costArg) < 0 then
      redis.call('HSET', key, 'c', '0')
    end
  elseif add then
    redis.call('HSET', key, 's', string.format('%d', now), 'c', costArg)
    redis.call('PEXPIREAT', key, expiresAt(now + window))
  end
end

-- Sliding counter: a penalty goes to the current window; a reward takes from the current window's
-- count first, then from the previous one's.
local function counterAdjust(key, _, window, add, charged)
  local index = math.floor(now / window)
  local stored = redis.call('HMGET', key, 'i', 'c', 'p')
  local w = stored[1] and tonumber(stored[1])
  if charged and w then
    -- A refund of a charge: only to the stored window that call was counted in.
    local at = math.floor(charged / window)
    if at == w then
      redis.call('HSET', key, 'c', string.format('%d', math.max(0, tonumber(stored[2]) - cost)))
    elseif at == w - 1 then
      redis.call('HSET', key, 'p', string.format('%d', math.max(0, tonumber(stored[3]) - cost)))
    end
    return
  end
  if w == index or w == index + 1 then
    local current, previous = tonumber(stored[2]), tonumber(stored[3])
    if add then current = current + cost
    else
      current = current - cost
      if current < 0 then current, previous = 0, math.max(0, previous + current) end
    end
    redis.call('HSET', key, 'c', string.format('%d', current), 'p', string.format('%d', previous))
  elseif add then
    redis.call('HSET', key, 'i', index, 'c', costArg, 'p', w == index - 1 and stored[2] or '0')
    redis.call('PEXPIREAT', key, expiresAt((index + 2) * window))
  elseif w == index - 1 then
    redis.call('HSET', key, 'c', string.format('%d', math.max(0, tonumber(stored[2]) - cost)))
  end
end

-- Token bucket: move the arrival time by the units' emission intervals, never before now.
local function gcraAdjust(key, _, interval, add, _charged)
  local tat = redis.call('GET', key)
  tat = tat and tonumber(tat) or now
  if tat < now then tat = now end
  if add then tat = tat + cost * interval else tat = tat - cost * interval end
  if tat <= now then redis.call('DEL', key)
  else redis.call('SET', key, tat, 'PX', string.format('%d', math.ceil((tat - now) / 1000) + 1)) end
end

-- Sliding log: a penalty records units at the current time (at most 100,000 live entries); a
-- reward drops the newest entries; a refund drops the refunded call's own entries, if still live.
local function logAdjust(key, _, window, add, charged)
  logExpire(key, now - window)
  if charged then
    if charged > now - window then redis.call('LREM', key, costArg, string.format('%d', charged)) end
    return
  end
  if not add then
    redis.call('LTRIM', key, costArg, '-1')
    return
  end
  local room = 100000 - redis.call('LLEN', key)
  local args = { 'LPUSH', key }
  for _ = 1, math.min(cost, room) do
    args[#args + 1] = logMember
    if #args >= 502 then
      redis.call(unpack(args))
      args = { 'LPUSH', key }
    end
  end
  if #args > 2 then redis.call(unpack(args)) end
  logTouch(key, window)
end

local adjust = { L = logAdjust, C = counterAdjust, F = fixedAdjust, G = gcraAdjust }
