-- Returns jobs a stopping worker did not finish to the front of waiting, without counting a stall.
-- A leased id is released only if this worker still owns it; an unleased id is one a BLMOVE parked
-- in `active` during the stop, released only if still there.
-- KEYS: waiting, leases, owners, active. ARGV: token, (id, leased 1|0)*.
-- Returns how many were released.
local released = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local mine
  if ARGV[i + 1] == '1' then
    mine = redis.call('HGET', KEYS[3], id) == ARGV[1]
    if mine then
      redis.call('ZREM', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
    end
  else
    mine = redis.call('LREM', KEYS[4], -1, id) > 0
  end
  if mine then
    redis.call('RPUSH', KEYS[1], id)
    released = released + 1
  end
end
return released
