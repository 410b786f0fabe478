-- wake(q): leaves the wake marker (the empty id) on an empty waiting list, so that a worker blocked
-- in BLMOVE there wakes up and fetches jobs that wait elsewhere (prioritized, grouped).
local function wake(q)
  if redis.call('LLEN', q.waiting) == 0 then redis.call('LPUSH', q.waiting, '') end
end
