-- Several plain arounds (around-plain.lua) of one board in one call, for calls made in the same
-- tick: KEYS as around.lua's, ARGV[1..3] unused, ARGV[4...] are member, radius, fill per call.
-- Reply: one around reply (or false) per call, in order.
--!include plain-reply
--!include around
local replies = {}
for i = 4, #ARGV, 3 do
  replies[#replies + 1] = around(ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2] == '1')
end
return replies
