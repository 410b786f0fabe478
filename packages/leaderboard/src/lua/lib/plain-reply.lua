-- reply (lib/reply.lua) for an ordinal board without member data: no tie base, no data, and no
-- other helper, since Lua builds a closure per helper on every call and Redis time is what bounds
-- the plain around at high load.
local function reply(first, flat) return {first, -1, flat, false} end
