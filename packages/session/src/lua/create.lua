-- create: a new session hash (see lib/create-session). KEYS: session. ARGV: those of
-- lib/create-session.
--!include create-session
local refused, now, a, c = create_check(KEYS[1])
if refused then return refused end
return create_write(KEYS[1], now, a, c)
