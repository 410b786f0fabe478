-- Sliding counter: counter(key, limit, window, apply), an algorithm function as lib/cost describes.
--
-- A hash { i = epoch-aligned window index, c = its count, p = the previous window's count }; the
-- previous count is weighted by the share of it the sliding window still covers. A hash rather
-- than one "i:c:p" string: within a window a call is HMGET and HINCRBY, with no Lua string to
-- split or build, which costs Redis about a fifth less per check.
--!include clock
--!include expires-at
-- Until remaining grows by one: the estimate falls while the previous window's weight shrinks, to
-- the current count at the edge, then with that count's weight through the next window.
local function counterNext(estimate, current, previous, elapsed, window, limit)
  local remaining = math.max(0, math.floor(limit - estimate))
  if estimate <= 0 or remaining >= limit then return 0 end
  local target = limit - remaining - 1
  local left = window - elapsed
  if current <= target then return math.ceil(math.max(0, left - (target - current) * window / previous)) end
  return math.ceil(left + window * (1 - target / current))
end

local function counter(key, limit, window, apply)
  local index = math.floor(now / window)
  local elapsed = now - index * window
  local current, previous = 0, 0
  local stored = redis.call('HMGET', key, 'i', 'c', 'p')
  if stored[1] then
    local w = tonumber(stored[1])
    if w == index then current, previous = tonumber(stored[2]), tonumber(stored[3])
    elseif w == index - 1 then previous = tonumber(stored[2])
    elseif w == index + 1 then
      -- The server's clock stepped back over a window edge (by up to a window): stay in the stored
      -- window, which has not begun yet by this clock (elapsed < 0, the previous count weighs in
      -- whole), rather than start over. A larger step, or a window index from another windowMs,
      -- starts a fresh window as before.
      index, elapsed = w, now - w * window
      current, previous = tonumber(stored[2]), tonumber(stored[3])
    end
  end
  local estimate = previous * math.min(1, (window - elapsed) / window) + current
  local fits = estimate + cost <= limit
  if fits and apply then
    if current > 0 then
      -- Same window: same TTL (the end of the next window).
      current = redis.call('HINCRBY', key, 'c', costArg)
    else
      current = cost
      redis.call('HSET', key, 'i', index, 'c', costArg, 'p', previous)
      -- Until the end of the next window, when this window's count stops weighing in.
      redis.call('PEXPIREAT', key, expiresAt((index + 2) * window))
    end
    estimate = estimate + cost
  end
  local remaining = math.max(0, math.floor(limit - estimate))
  local reset = 0
  if current > 0 then reset = 2 * window - elapsed elseif previous > 0 then reset = window - elapsed end
  local nextUnit = counterNext(estimate, current, previous, elapsed, window, limit)
  if fits then return 1, remaining, math.ceil(reset), 0, nextUnit end
  local retry
  if current + cost <= limit then
    -- Wait in this window until the previous window's weight has shrunk enough.
    retry = (1 - (limit - current - cost) / previous) * window - elapsed
  else
    -- Wait for the next window, where this window's count becomes the weighted one.
    local share = 0
    if current > limit - cost then share = 1 - (limit - cost) / current end
    retry = window - elapsed + share * window
  end
  return 0, remaining, math.ceil(reset), math.ceil(retry), nextUnit
end
