-- enqueue(q, id, data, delayMs, p, g, trace): adds one job unless its id exists (HSETNX makes the
-- check and the write one step, so an add with a given id is idempotent). `p` (priority, '' or '0'
-- for none) and `g` (group, '' for none) are kept in the job hash so that retries and rescues return
-- the job to the same place; `trace` is passed to lib/stamp.lua (nil: nothing). Returns 1 when
-- added, 0 for a duplicate id; the caller counts `added`.
--!include now
--!include ready
--!include emit
--!include stamp
local function enqueue(q, id, data, delayMs, p, g, trace)
  local job = q.prefix .. id
  if redis.call('HSETNX', job, 'd', data) == 0 then return 0 end
  if tonumber(p) and tonumber(p) > 0 then redis.call('HSET', job, 'p', p) end
  if g and g ~= '' then redis.call('HSET', job, 'g', g) end
  local delay = tonumber(delayMs)
  stamp(job, trace, delay)
  if delay > 0 then redis.call('ZADD', q.delayed, now + delay, id) else ready(q, id, false, p, g) end
  emit(q, 'added', id)
  return 1
end
