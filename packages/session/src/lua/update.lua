-- update: merges a patch into the data (or replaces it), never recreating a session that is gone
-- (see lib/update-session). KEYS: session. ARGV and reply: those of update_session.
--!include update-session
return update_session(KEYS[1], #ARGV)
