-- Extends the leases this worker still owns to server time + leaseMs, and tells it which of its
-- jobs were cancelled (the cancel's message may not have reached it).
-- KEYS: leases, owners, jobPrefix. ARGV: token, leaseMs, ids...
-- Returns { ids it no longer owns (rescued after an expiry, or released), cancelled ids }.
--!include now
local ids, deadline, args, lost, cancelled = {}, now + tonumber(ARGV[2]), {}, {}, {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local holders = redis.call('HMGET', KEYS[2], unpack(ids))
for k, id in ipairs(ids) do
  if holders[k] == ARGV[1] then
    args[#args + 1] = deadline
    args[#args + 1] = id
    if redis.call('HEXISTS', KEYS[3] .. id, 'cx') == 1 then cancelled[#cancelled + 1] = id end
  else
    lost[#lost + 1] = id
  end
end
if #args > 0 then redis.call('ZADD', KEYS[1], unpack(args)) end
return { lost, cancelled }
