-- Extends the leases this worker still owns to server time + leaseMs.
-- KEYS: leases, owners. ARGV: token, leaseMs, ids...
-- Returns the ids it no longer owns (rescued after an expiry, or released).
--!include now
local ids, deadline, args, lost = {}, now + tonumber(ARGV[2]), {}, {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local holders = redis.call('HMGET', KEYS[2], unpack(ids))
for k, id in ipairs(ids) do
  if holders[k] == ARGV[1] then
    args[#args + 1] = deadline
    args[#args + 1] = id
  else
    lost[#lost + 1] = id
  end
end
if #args > 0 then redis.call('ZADD', KEYS[1], unpack(args)) end
return lost
