-- among: the board's order over a given set of members (friends, a country), without copying the
-- board. ZMSCORE reads their stored scores, and they are sorted here by stored score; equal stored
-- scores (tieBreak 'none' only) by their ZRANK on the board, which is the byte order of their ids
-- (Lua compares strings by the server's locale, not by bytes). O(k log k) for k members, plus
-- O(log n) per member tied with another.
-- KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie rule, [3] with data ('1'), [4] the member
-- to locate ('' = none), [5] radius, [6] fill borders ('1'), [7] how many of the best to return,
-- [8..] the members, distinct.
-- Returns {members of the set on the board, the best ones, the window around the member or false
-- when it is not on the board}; both as lib/reply.lua's {first, tie base, flat, data} except that
-- first and the tie base count within the set.
--!include scores-key
--!include tie-rule
--!include raw-of
local dataKey = KEYS[2]
local withData, me, radius = ARGV[3] == '1', ARGV[4], tonumber(ARGV[5])
local fill, best = ARGV[6] == '1', tonumber(ARGV[7])

local members, stored, value = {}, {}, {}
for i = 8, #ARGV, 1000 do
  local last = math.min(i + 999, #ARGV)
  local found = redis.call('ZMSCORE', scoresKey, unpack(ARGV, i, last))
  for j = 1, last - i + 1 do
    if found[j] then
      local n = #members + 1
      members[n], stored[n], value[n] = ARGV[i + j - 1], found[j], tonumber(found[j])
    end
  end
end
local count = #members

-- Sort the distinct stored scores as plain numbers (a comparator function costs Lua a call per
-- comparison, several times the whole sort), then order each group of equal stored scores.
local byValue, distinctValues = {}, {}
for n = 1, count do
  local v = value[n]
  local at = byValue[v]
  if at == nil then byValue[v] = n; distinctValues[#distinctValues + 1] = v
  elseif type(at) == 'number' then byValue[v] = {at, n}
  else at[#at + 1] = n end
end
table.sort(distinctValues)
local order = {}
for _, v in ipairs(distinctValues) do
  local at = byValue[v]
  if type(at) == 'number' then order[#order + 1] = at
  else
    local rank = {}
    for _, n in ipairs(at) do rank[n] = redis.call('ZRANK', scoresKey, members[n]) end
    table.sort(at, function(a, b) return rank[a] < rank[b] end)
    for _, n in ipairs(at) do order[#order + 1] = n end
  end
end

-- Ranks taken before position p (0-based) among the set: members of a strictly better raw score
-- (competition) or distinct better raw scores (dense); -1 on ordinal boards.
local function tieBase(p)
  if tieRule == 'ordinal' then return -1 end
  local start, distinct = 0, 0
  for q = 1, p do
    if rawOf(value[order[q + 1]]) ~= rawOf(value[order[q]]) then start, distinct = q, distinct + 1 end
  end
  if dense then return distinct end
  return start
end

-- Positions lo..hi (0-based, inclusive, within the set) as a reply.
local function slice(lo, hi)
  local flat, names = {}, {}
  for p = lo, math.min(hi, count - 1) do
    local at = order[p + 1]
    flat[#flat + 1] = members[at]; flat[#flat + 1] = stored[at]
    names[#names + 1] = members[at]
  end
  local data = false
  if withData and #names > 0 then
    data = {}
    for i = 1, #names, 1000 do
      local values = redis.call('HMGET', dataKey, unpack(names, i, math.min(i + 999, #names)))
      for j = 1, #values do data[#data + 1] = values[j] end
    end
  end
  local base = -1
  if #names > 0 then base = tieBase(lo) end
  return {lo, base, flat, data}
end

local around = false
if me ~= '' then
  for p = 0, count - 1 do
    if members[order[p + 1]] == me then
      local lo, hi = math.max(0, p - radius), p + radius
      if fill then
        hi = lo + 2 * radius
        if hi > count - 1 then hi = count - 1; lo = math.max(0, hi - 2 * radius) end
      end
      around = slice(lo, hi)
      break
    end
  end
end
return {count, slice(0, best - 1), around}
