--!include wake
-- ready(q, id, front, p, g): puts an existing job where it waits to run. A priority above 0 goes to
-- `prio` (score: minus the priority times 2^32, plus a sequence, so higher priorities come first and
-- FIFO holds within one; `front` puts it before the others of its priority), a group to its own list
-- and the rotation of runnable groups, anything else to the waiting list (`front`: the end workers
-- take from next). `p` and `g` are read from the job hash when nil.
-- A job that does not go to the waiting list leaves a wake marker (the empty id) on an empty
-- waiting list, so that a worker blocked in BLMOVE there wakes up and fetches it.
local function ready(q, id, front, p, g)
  if p == nil then
    local f = redis.call('HMGET', q.prefix .. id, 'p', 'g')
    p, g = f[1], f[2]
  end
  p = tonumber(p) or 0
  if g == '' then g = nil end
  if p > 0 then
    local seq = redis.call('HINCRBY', q.stats, 'seq', 1) % 2147483648
    local within = front and (2147483648 - seq) or (2147483648 + seq)
    redis.call('ZADD', q.prio, -p * 4294967296 + within, id)
  elseif g then
    local list = q.gprefix .. g
    local n = front and redis.call('RPUSH', list, id) or redis.call('LPUSH', list, id)
    -- A group enters the rotation with its first waiting job, unless it is held (at its limit).
    if n == 1 and not redis.call('ZSCORE', q.gheld, g) then redis.call('RPUSH', q.groups, g) end
  else
    if front then redis.call('RPUSH', q.waiting, id) else redis.call('LPUSH', q.waiting, id) end
    return
  end
  wake(q)
end
