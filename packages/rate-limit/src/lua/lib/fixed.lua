-- Fixed window: fixed(key, limit, window, apply), an algorithm function as lib/cost describes.
--
-- A hash { s = start (µs), c = count }, anchored at the first admitted call after the previous
-- window ended; the TTL set when the window opened stays. A charge in a live window is one HGET of
-- the start and one HINCRBY that charges and reads the count at once: two commands, the fewest that
-- both decide and report the time left. When the count it returns is over the limit, a second
-- HINCRBY gives the cost back in the same call, so a refused call still leaves the count as it was
-- (that is the rarer call, and the only one that costs a third command). A refused call still
-- writes, so it touches what watches writes (WATCH, keyspace notifications, client tracking). A
-- peek, or a cost that can never fit, reads the start and the count and writes nothing. `costArg`
-- is the cost as sent, a whole number >= 1.
--!include clock
--!include expires-at
local function fixed(key, limit, window, apply)
  local s = redis.call('HGET', key, 's')
  local left = s and tonumber(s) + window - now or 0
  if apply and cost <= limit then
    -- Times are whole µs (lib/clock), so `left` needs no rounding.
    if left > 0 then
      local count = redis.pcall('HINCRBY', key, 'c', costArg)
      if type(count) == 'table' then
        -- Redis refused the write (out of memory, a failed save, too few replicas, a count that is
        -- not an integer): decide without it, so a call that does not fit is still refused, and
        -- one that fits fails with Redis's error, as it would have if the count had been read first.
        local stored = tonumber(redis.call('HGET', key, 'c'))
        if not stored or stored + cost <= limit then error(count) end
        return 0, limit - stored, left, left, left
      end
      if count <= limit then return 1, limit - count, left, 0, left end
      redis.call('HINCRBY', key, 'c', '-' .. costArg)
      return 0, limit - count + cost, left, left, left
    end
    -- No live window (no key, or one whose window ended in the millisecond before it expires):
    -- this call opens one.
    redis.call('HSET', key, 's', string.format('%d', now), 'c', costArg)
    redis.call('PEXPIREAT', key, expiresAt(now + window))
    return 1, limit - cost, window, 0, window
  end
  local count = 0
  if left > 0 then count = tonumber(redis.call('HGET', key, 'c')) else left = window end
  if count + cost > limit then return 0, limit - count, left, left, left end
  -- The whole window's units come back at once, when it ends; nothing used, nothing to wait for.
  if count == 0 then left = 0 end
  return 1, limit - count, left, 0, left
end
