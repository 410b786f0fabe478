-- update-indexed: update (see lib/update-session) binding the session to a user, and that user's
-- index entry for it, in one atomic script. Only where both keys live on one server (standalone,
-- Sentinel); on Cluster, index-add goes out with update, and the entry is checked again after it.
-- Atomic here, a destroyAllForUser runs wholly before (the session was not the user's yet) or
-- after (it finds the entry), so no check follows. The entry is written only if the update was.
-- KEYS: session, index. ARGV: those of update_session, then the handle and the lifetime cap (ms)
-- that scores the entry as index-add does (now + cap + a minute). Reply: update_session's.
--!include update-session
--!include index-entry
--!include index-writable
local refused = index_writable(KEYS[2])
if refused then return refused end
local reply = update_session(KEYS[1], #ARGV - 2)
if reply[1] == 1 then add_entry(KEYS[2], ARGV[#ARGV - 1], '', ARGV[#ARGV], reply[2]) end
return reply
