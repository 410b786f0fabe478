-- Members whose raw score is strictly better than raw: O(log n).
--!include scores-key
--!include shift
--!include fmt
local function countBetter(raw)
  return redis.call('ZCOUNT', scoresKey, '-inf', '(' .. fmt(raw * shift))
end
