-- Adds jobs. HSETNX writes a job only if its hash does not exist, which makes an add with a given id
-- idempotent: the check and the write are one step, so two producers cannot both add it. Plain
-- jobs go to waiting in one LPUSH; delayed, prioritized and grouped ones through lib/enqueue.lua.
-- KEYS: the base block (lib/base.lua). ARGV: trace (see lib/stamp.lua, for every job of the call),
-- then (id, data, delayMs, priority, group)*.
-- Returns 1 (added) or 0 (duplicate) per job.
--!include base
--!include enqueue
local added, plain, n, trace = {}, {}, 0, ARGV[1]
for i = 2, #ARGV, 5 do
  local id, delay, p, g = ARGV[i], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local ok
  if delay == '0' and p == '0' and g == '' then
    ok = redis.call('HSETNX', K.prefix .. id, 'd', ARGV[i + 1])
    if ok == 1 then
      stamp(K.prefix .. id, trace, 0)
      plain[#plain + 1] = id
      emit(K, 'added', id)
    end
  else
    ok = enqueue(K, id, ARGV[i + 1], delay, p, g, trace)
  end
  added[#added + 1] = ok
  n = n + ok
end
if #plain > 0 then redis.call('LPUSH', K.waiting, unpack(plain)) end
if n > 0 then redis.call('HINCRBY', K.stats, 'added', n) end
return added
