-- rank / entry / rankedList / percentile: KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie
-- rule, [3] with data ('1'), [4] with percentile ('1'), [5..] members.
-- Returns {board size or -1 (without percentile), flat [stored, ordinal index, tie base, members
-- ranked below] per member (false, -1, -1, -1 when absent), member data per member or false}.
--!include keys
--!include tie-rule
--!include raw-of
--!include tie-base
--!include count-at-or-better
local withData, withBelow = ARGV[3] == '1', ARGV[4] == '1'
local card = -1
if withBelow then card = redis.call('ZCARD', scoresKey) end
local out, members = {}, {}
for i = 5, #ARGV do
  local member = ARGV[i]
  members[#members + 1] = member
  local s = redis.call('ZSCORE', scoresKey, member)
  if s then
    local raw = rawOf(tonumber(s))
    local index = redis.call('ZRANK', scoresKey, member)
    local base, below = -1, -1
    if tieRule ~= 'ordinal' then base = tieBase(raw) end
    if withBelow then
      if tieRule == 'ordinal' then below = card - index - 1 else below = card - countAtOrBetter(raw) end
    end
    out[#out + 1] = s; out[#out + 1] = index; out[#out + 1] = base; out[#out + 1] = below
  else
    out[#out + 1] = false; out[#out + 1] = -1; out[#out + 1] = -1; out[#out + 1] = -1
  end
end
local data = false
if withData and #members > 0 then data = redis.call('HMGET', dataKey, unpack(members)) end
return {card, out, data}
