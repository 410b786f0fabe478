-- around on an ordinal board without member data (the common game-board call): the same window as
-- around.lua with no other helper function, since Lua builds a closure per helper on every call
-- and Redis time is what bounds this read at high load. KEYS and ARGV as around.lua's (ARGV[1..3]
-- unused). Reply: a table of one around reply (tie base -1, no data), laid out as
-- around-plain-batch.lua's for one call.
--!include plain-reply
--!include around
return { around(ARGV[4], tonumber(ARGV[5]), ARGV[6] == '1') }
