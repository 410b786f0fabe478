-- Adds jobs. HSETNX writes a job only if its hash does not exist, which makes an add with a given id
-- idempotent: the check and the write are one step, so two producers cannot both add it. A job
-- with a delay goes to `delayed` (due at server time + delayMs), the others to waiting.
-- KEYS: waiting, delayed, stats, jobPrefix. ARGV: (id, data, delayMs)*.
-- Returns 1 (added) or 0 (duplicate) per job.
--!include now
local added, ready, n = {}, {}, 0
for i = 1, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HSETNX', KEYS[4] .. id, 'd', ARGV[i + 1]) == 0 then
    added[#added + 1] = 0
  else
    local delay = tonumber(ARGV[i + 2])
    if delay > 0 then redis.call('ZADD', KEYS[2], now + delay, id) else ready[#ready + 1] = id end
    added[#added + 1] = 1
    n = n + 1
  end
end
if #ready > 0 then redis.call('LPUSH', KEYS[1], unpack(ready)) end
if n > 0 then redis.call('HINCRBY', KEYS[3], 'added', n) end
return added
