--!include clock
--!include refresh
-- One read with its refresh (shared by read and read-batch); `now` is read once per script call,
-- on the first live session, and stays nil if none was. Fills out[at .. at + 7] with refreshed
-- (0|1), a, r (before this read), c, u or '', d, i or '', v and returns true, or returns false for
-- a session that is gone.
local now
local function read(key, idle, touchAfter, out, at)
  local m = redis.call('HMGET', key, 'a', 'r', 'c', 'u', 'd', 'i', 'v')
  if not m[1] or not m[2] or not m[5] then return false end
  now = now or clock()
  local state = refresh(key, now, tonumber(m[1]), tonumber(m[2]), idle, touchAfter, tonumber(m[6]))
  if state < 0 then return false end
  out[at], out[at + 1], out[at + 2], out[at + 3], out[at + 4], out[at + 5], out[at + 6], out[at + 7] =
    state, m[1], m[2], m[3] or m[2], m[4] or '', m[5], m[6] or '', m[7] or ''
  return true
end
