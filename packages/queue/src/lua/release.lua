-- Returns jobs a stopping worker did not finish to the front of where they wait, without counting
-- a stall. A leased id is released only if this worker still owns it; an unleased id is one a
-- BLMOVE parked in `active` during the stop, released only if still there.
-- A job cancelled while it ran goes to the dead set instead, and a wake marker taken back (the empty
-- id) is handed on to another worker.
-- KEYS: the base block (lib/base.lua), then leases, owners, active, dead. ARGV: token, (id, leased 1|0)*.
-- Returns how many were released.
--!include base
--!include ready
--!include groups
--!include bury-cancelled
local leases, owners, active, dead = KEYS[14], KEYS[15], KEYS[16], KEYS[17]
local released = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local mine
  if ARGV[i + 1] == '1' then
    mine = redis.call('HGET', owners, id) == ARGV[1]
    if mine then
      redis.call('ZREM', leases, id)
      redis.call('HDEL', owners, id)
    end
  else
    mine = redis.call('LREM', active, -1, id) > 0
    if mine and id == '' then
      wake(K)
      mine = false
    end
  end
  if mine then
    local f = redis.call('HMGET', K.prefix .. id, 'p', 'g')
    if ARGV[i + 1] == '1' then
      groupDone(K, f[2])
      -- It ran: its lag was counted, so the run after this release must not count it again.
      redis.call('HDEL', K.prefix .. id, 't')
    end
    if not buryCancelled(K, id, dead) then ready(K, id, true, f[1], f[2]) end
    released = released + 1
  end
end
return released
