-- A matrix read: members' places on every board of a matrix, read in one atomic step (no write runs
-- between two boards' reads). The members are given, or are the best n of one of the boards.
-- KEYS: 3 per board, board b at KEYS[3b-2..3b] (scores, data, distinct as in lib/keys.lua).
-- ARGV[1], [2] unused (the libs' shift and tie rule, pointed at each board in turn), [3] with data
-- ('1'), [4] the board (1-based) whose best ARGV[5] members to read, '0' to read the members given,
-- [5] n, then 2 per board: shift, tie rule; then the members (when ARGV[4] is '0').
-- Returns {members, flat [stored, ordinal index, tie base] per member per board (false, -1, -1 when
-- absent), member data per member per board (false when none) or false}.
--!include keys
--!include shift
--!include tie-rule
--!include raw-of
--!include tie-base
local withData, sortBoard, n = ARGV[3] == '1', tonumber(ARGV[4]), tonumber(ARGV[5])
local boards = #KEYS / 3

-- Points the included libs (their upvalues) at board b.
local function use(b)
  scoresKey, dataKey, distinctKey = KEYS[3 * b - 2], KEYS[3 * b - 1], KEYS[3 * b]
  shift, tieRule = tonumber(ARGV[4 + 2 * b]), ARGV[5 + 2 * b]
  dense = tieRule == 'dense'
end

local members = {}
if sortBoard == 0 then
  for i = 6 + 2 * boards, #ARGV do members[#members + 1] = ARGV[i] end
else
  use(sortBoard)
  members = redis.call('ZRANGE', scoresKey, 0, n - 1)
end

local out, data = {}, false
if withData then data = {} end
for _, member in ipairs(members) do
  for b = 1, boards do
    use(b)
    local s = redis.call('ZSCORE', scoresKey, member)
    if s then
      local base = -1
      if tieRule ~= 'ordinal' then base = tieBase(rawOf(tonumber(s))) end
      out[#out + 1] = s; out[#out + 1] = redis.call('ZRANK', scoresKey, member); out[#out + 1] = base
    else
      out[#out + 1] = false; out[#out + 1] = -1; out[#out + 1] = -1
    end
    if withData then data[#data + 1] = redis.call('HGET', dataKey, member) end
  end
end
return {members, out, data}
