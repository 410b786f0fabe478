-- The window of radius entries either side of member (fill: 2 * radius + 1 entries even at the
-- borders of the board, when it has them), as reply(first, flat) makes it; false when the member is
-- not on the board. The script includes reply or plain-reply before this lib: which one is its
-- choice.
--!include scores-key
local function around(member, radius, fill)
  local index = redis.call('ZRANK', scoresKey, member)
  if not index then return false end
  local lo, hi = math.max(0, index - radius), index + radius
  if fill then hi = lo + 2 * radius end
  local flat = redis.call('ZRANGE', scoresKey, lo, hi, 'WITHSCORES')
  if fill and lo > 0 and #flat / 2 < hi - lo + 1 then
    -- The window ran past the bottom: take the missing neighbours from above instead, so that
    -- 2 * radius + 1 come back whenever the board has them (no ZCARD on the common path).
    local last = lo + #flat / 2 - 1
    lo = math.max(0, last - 2 * radius)
    flat = redis.call('ZRANGE', scoresKey, lo, last, 'WITHSCORES')
  end
  return reply(lo, flat)
end
