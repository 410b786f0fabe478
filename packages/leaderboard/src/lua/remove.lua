-- remove: KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie rule, [3..] members.
-- Returns how many of them were on the board.
--!include keys
--!include raw-of
--!include leave
--!include chunked
local removed, members = 0, {}
for i = 3, #ARGV do
  local s = redis.call('ZSCORE', scoresKey, ARGV[i])
  if s then
    redis.call('ZREM', scoresKey, ARGV[i])
    removed = removed + 1
    leave(rawOf(tonumber(s)))
  end
  members[#members + 1] = ARGV[i]
end
chunked('HDEL', dataKey, members)
return removed
