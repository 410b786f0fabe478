-- create-indexed: a new session (see lib/create-session) and, if it was written, its handle in its
-- user's index, in one atomic script. Only where both keys live on one server (standalone,
-- Sentinel); on Cluster they are in different slots, and index-add goes out with create instead.
-- Since the entry is written only with the session, a refused create leaves no stale entry. The
-- score is as index-add's: a fixed absoluteAt, else now + absoluteTtlMs (not the earlier end a
-- cookie may set: a later cookie can move that end up to the lifetime's cap), plus a minute.
-- KEYS: session, index. ARGV: those of create_session, then the handle and that fixed absoluteAt
-- ('' = none). Returns what create_session returns.
--!include create-session
--!include index-entry
--!include index-writable
local refused = index_writable(KEYS[2])
if refused then return refused end
local reply = create_session(KEYS[1])
if reply[1] == 1 then add_entry(KEYS[2], ARGV[9], ARGV[10], ARGV[2], reply[2]) end
return reply
