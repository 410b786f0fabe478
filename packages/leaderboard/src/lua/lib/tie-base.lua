-- Ranks taken before raw's group: members strictly better (competition) or distinct better scores
-- (dense).
--!include keys
--!include tie-rule
--!include fmt
--!include count-better
local function tieBase(raw)
  if dense then return redis.call('ZCOUNT', distinctKey, '-inf', '(' .. fmt(raw)) end
  return countBetter(raw)
end
