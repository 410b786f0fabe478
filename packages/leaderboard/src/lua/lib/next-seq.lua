-- The arrival number of a member joining the group of raw (earlier-first boards): one after the
-- group's last member. Returns nil and the group's size when the group holds 2^bits members.
--!include scores-key
--!include shift
--!include fmt
local function nextSeq(raw)
  local lo, hi = fmt(raw * shift), '(' .. fmt((raw + 1) * shift)
  local last = redis.call('ZRANGE', scoresKey, hi, lo, 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
  if #last == 0 then return 0 end
  local seq = tonumber(last[2]) - raw * shift + 1
  if seq < shift then return seq end
  -- The group used all 2^bits numbers: renumber it 0, 1, 2... in its order (O(g log n) for its g
  -- members; each member moves down, never past the one before it), then continue after it. The
  -- order and the ranks stay as they were, so a caller may stop after this without undoing it.
  local group = redis.call('ZRANGE', scoresKey, lo, hi, 'BYSCORE')
  if #group >= shift then return nil, #group end
  for i = 1, #group do redis.call('ZADD', scoresKey, fmt(raw * shift + i - 1), group[i]) end
  return #group
end
