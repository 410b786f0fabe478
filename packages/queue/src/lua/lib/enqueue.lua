-- enqueue(q, id, data, delayMs, p, g): adds one job unless its id exists (HSETNX makes the check and
-- the write one step, so an add with a given id is idempotent). `p` (priority, '' or '0' for none)
-- and `g` (group, '' for none) are kept in the job hash so that retries and rescues return the job
-- to the same place. Returns 1 when added, 0 for a duplicate id; the caller counts `added`.
--!include now
--!include ready
--!include emit
local function enqueue(q, id, data, delayMs, p, g)
  local job = q.prefix .. id
  if redis.call('HSETNX', job, 'd', data) == 0 then return 0 end
  if tonumber(p) and tonumber(p) > 0 then redis.call('HSET', job, 'p', p) end
  if g and g ~= '' then redis.call('HSET', job, 'g', g) end
  local delay = tonumber(delayMs)
  if delay > 0 then redis.call('ZADD', q.delayed, now + delay, id) else ready(q, id, false, p, g) end
  emit(q, 'added', id)
  return 1
end
