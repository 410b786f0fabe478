-- Fixed window: fixed(key, limit, window, apply), an algorithm function as lib/cost describes.
--
-- A hash { s = start (µs), c = count }, anchored at the first admitted call after the previous
-- window ended. Within a window an admitted call is two HGETs and HINCRBY (no string to split or
-- build), and the TTL set when the window opened stays.
--!include clock
--!include expires-at
local function fixed(key, limit, window, apply)
  local start, count = now, 0
  -- Two HGETs cost Redis less than one HMGET's table, and an ended window needs only the first.
  local s = redis.call('HGET', key, 's')
  if s then
    s = tonumber(s)
    if now < s + window then start, count = s, tonumber(redis.call('HGET', key, 'c')) end
  end
  local left = start + window - now
  if count + cost > limit then return 0, limit - count, math.ceil(left), math.ceil(left), math.ceil(left) end
  if apply then
    if count > 0 then
      count = redis.call('HINCRBY', key, 'c', costArg)
    else
      count = cost
      redis.call('HSET', key, 's', string.format('%d', start), 'c', costArg)
      redis.call('PEXPIREAT', key, expiresAt(start + window))
    end
  elseif count == 0 then left = 0 end
  -- The whole window's units come back at once, when it ends.
  return 1, limit - count, math.ceil(left), 0, math.ceil(left)
end
