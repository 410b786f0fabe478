-- around on an ordinal board without member data (the common game-board call): the same window as
-- around.lua with no other helper function, since Lua builds a closure per helper on every call
-- and Redis time is what bounds this read at high load. KEYS and ARGV as around.lua's (ARGV[1..3]
-- unused); the reply has tie base -1 and no data.
--!include plain-reply
--!include around
return around(ARGV[4], tonumber(ARGV[5]), ARGV[6] == '1')
