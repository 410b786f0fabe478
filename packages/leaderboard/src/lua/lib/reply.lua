-- The reply of the range scripts, for the entries flat = [member, stored, ...] starting at ordinal
-- index first: {first, tie base of the first entry or -1 (ordinal boards), flat, member data in
-- the order of flat (ARGV[3] = '1') or false}.
--!include keys
--!include tie-rule
--!include raw-of
--!include tie-base
local function reply(first, flat)
  local base = -1
  if #flat > 0 and tieRule ~= 'ordinal' then base = tieBase(rawOf(tonumber(flat[2]))) end
  local data = false
  if ARGV[3] == '1' and #flat > 0 then
    data = {}
    for i = 1, #flat, 2000 do
      local members = {}
      for j = i, math.min(i + 1998, #flat - 1), 2 do members[#members + 1] = flat[j] end
      local values = redis.call('HMGET', dataKey, unpack(members))
      for j = 1, #values do data[#data + 1] = values[j] end
    end
  end
  return {first, base, flat, data}
end
