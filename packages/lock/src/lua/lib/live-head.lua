-- liveHead(queue, marks): the oldest owner of a fair lock's queue still waiting, or nil. A head
-- whose mark (marks: owner -> the server time until which it counts as waiting) has expired is
-- dropped on the way: its process died, or it left without saying so. Needs `now` (lib/server-now).
--!include server-now
local function liveHead(queue, marks)
  local head = redis.call('LINDEX', queue, 0)
  while head do
    local expiry = redis.call('ZSCORE', marks, head)
    if expiry and tonumber(expiry) > now then return head end
    redis.call('LPOP', queue)
    redis.call('ZREM', marks, head)
    head = redis.call('LINDEX', queue, 0)
  end
  return nil
end
