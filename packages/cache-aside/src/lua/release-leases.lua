-- Gives back the leases of a batch load whose values are not written (skipped, refused, failed).
-- KEYS: leases (all in one hash slot). ARGV: lease token.
-- Returns how many leases it deleted (only those the caller still held).
local released = 0
for _, lease in ipairs(KEYS) do
  if redis.call('GET', lease) == ARGV[1] then
    redis.call('DEL', lease)
    released = released + 1
  end
end
return released
