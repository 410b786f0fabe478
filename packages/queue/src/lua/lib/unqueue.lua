-- unqueue(q, id, g): takes a job that is not running out of wherever it waits or rests (waiting,
-- prioritized, its group's list, delayed, dead, completed). Returns 'dead', 'done' or 'waiting'
-- for where it was.
local function unqueue(q, id, g, dead, done)
  if redis.call('ZREM', dead, id) == 1 then return 'dead' end
  if redis.call('ZREM', done, id) == 1 then return 'done' end
  if redis.call('ZREM', q.prio, id) == 0 and redis.call('ZREM', q.delayed, id) == 0 then
    if g then
      local list = q.gprefix .. g
      redis.call('LREM', list, 0, id)
      if redis.call('LLEN', list) == 0 then redis.call('LREM', q.groups, 0, g) end
    else
      redis.call('LREM', q.waiting, 0, id)
    end
  end
  return 'waiting'
end
