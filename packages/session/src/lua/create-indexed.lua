-- create-indexed: a new session (see lib/create-session) and its handle in its user's index, in
-- one atomic script. Only where both keys live on one server (standalone, Sentinel); on Cluster
-- they are in different slots, and index-add goes out with create instead. The entry is written
-- after the session's checks and before its write: a refused create leaves no entry, and an index
-- key of another type fails the ZADD (WRONGTYPE) before anything is written, so a session is never
-- bound to its user but missing from the index. The score is as index-add's: a fixed absoluteAt,
-- else now + absoluteTtlMs (not the earlier end a cookie may set: a later cookie can move that end
-- up to the lifetime's cap), plus a minute.
-- KEYS: session, index. ARGV: those of lib/create-session, then the handle and that fixed
-- absoluteAt ('' = none). Returns what create_write returns, or create_check's refusal.
--!include create-session
--!include index-entry
local refused, now, a, c = create_check(KEYS[1])
if refused then return refused end
add_entry(KEYS[2], ARGV[9], ARGV[10], ARGV[2], now)
return create_write(KEYS[1], now, a, c)
