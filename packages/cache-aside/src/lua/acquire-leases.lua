-- The batch form of taking load leases (getManyOrLoad): for each key, SET NX PX its lease and, when
-- taken, re-read its entry in the same step, so a leader that committed just before is seen.
-- KEYS: entry 1, lease 1, entry 2, lease 2, ... (all in one hash slot). ARGV: lease token, lease TTL
-- in ms.
-- Returns one item per key, in order: 0 when another caller holds the lease, 1 when the lease was
-- taken and there is no entry, else the entry's text (the lease was taken).
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('SET', KEYS[i + 1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    out[#out + 1] = redis.call('GET', KEYS[i]) or 1
  else
    out[#out + 1] = 0
  end
end
return out
