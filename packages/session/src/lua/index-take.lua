-- destroyAllForUser, first half: takes every handle out of the index (but `except`) before the
-- sessions are deleted, so a session created concurrently either sees its handle gone (and deletes
-- itself) or was indexed after this and is a later login. KEYS: index. ARGV: except handle or ''.
-- Returns the handles removed.
--!include clock
--!include prune
prune(KEYS[1], clock())
local taken = {}
for _, handle in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if handle ~= ARGV[1] then
    redis.call('ZREM', KEYS[1], handle)
    taken[#taken + 1] = handle
  end
end
return taken
