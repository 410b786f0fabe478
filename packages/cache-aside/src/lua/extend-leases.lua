-- The heartbeat of a batch load: extends each lease the caller still holds.
-- KEYS: leases (all in one hash slot). ARGV: lease token, new lease TTL in ms.
-- Returns how many leases it extended.
local extended = 0
for _, lease in ipairs(KEYS) do
  if redis.call('GET', lease) == ARGV[1] then
    redis.call('PEXPIRE', lease, ARGV[2])
    extended = extended + 1
  end
end
return extended
