-- One job's hash and where it is. KEYS: leases, active, delayed, dead, done, jobPrefix. ARGV: id.
-- Returns false (no such job), or { hash fields, delayed score, dead score, done score, 1 if
-- leased or parked in active else 0 }.
local id = ARGV[1]
local fields = redis.call('HGETALL', KEYS[6] .. id)
if #fields == 0 then return false end
local active = (redis.call('ZSCORE', KEYS[1], id) or redis.call('LPOS', KEYS[2], id)) and 1 or 0
return { fields, redis.call('ZSCORE', KEYS[3], id), redis.call('ZSCORE', KEYS[4], id),
  redis.call('ZSCORE', KEYS[5], id), active }
