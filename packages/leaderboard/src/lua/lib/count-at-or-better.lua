-- Members whose raw score is raw or better: O(log n).
--!include scores-key
--!include shift
--!include fmt
local function countAtOrBetter(raw)
  if shift == 1 then return redis.call('ZCOUNT', scoresKey, '-inf', fmt(raw)) end
  return redis.call('ZCOUNT', scoresKey, '-inf', '(' .. fmt((raw + 1) * shift))
end
