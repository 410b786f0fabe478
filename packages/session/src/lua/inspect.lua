-- inspect: what the inspector shows of one key without its data, and without refreshing it.
-- KEYS: session. Returns nil for a key that is not a live session (gone, a tombstone), else
-- { a, r, c, u or '', i or '', bytes of the data field, PTTL }.
local m = redis.call('HMGET', KEYS[1], 'a', 'r', 'c', 'u', 'i')
if not m[1] or not m[2] then return false end
return { m[1], m[2], m[3] or m[2], m[4] or '', m[5] or '', redis.call('HSTRLEN', KEYS[1], 'd'),
  redis.call('PTTL', KEYS[1]) }
