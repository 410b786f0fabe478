-- live_head(queue, marks): the oldest owner of a fair lock's queue still waiting, or nil. A head
-- whose mark (marks: owner -> the server time until which it counts as waiting) has expired is
-- dropped on the way: its process died, or it left without saying so. Needs `now` (lib/server-now).
--!include server-now
local function live_head(queue_key, marks_key)
  local first = redis.call('LINDEX', queue_key, 0)
  while first do
    local expiry = redis.call('ZSCORE', marks_key, first)
    if expiry and tonumber(expiry) > now then return first end
    redis.call('LPOP', queue_key)
    redis.call('ZREM', marks_key, first)
    first = redis.call('LINDEX', queue_key, 0)
  end
  return nil
end
