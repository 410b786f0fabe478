-- create: a new session hash (see lib/create-session). KEYS: session. ARGV: those of
-- create_session.
--!include create-session
return create_session(KEYS[1])
