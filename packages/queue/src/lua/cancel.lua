-- Cancels a job. A running one is marked (`cx`) and its worker told over the sharded channel
-- (renewals also report the mark, in case the message is lost); the worker aborts its handler and
-- records it dead with reason `cancelled`, without a retry. A job not running yet goes to the dead
-- set with that reason at once (retryDead can bring it back). A finished job is left as it is.
-- KEYS: the base block (lib/base.lua), then leases, active, dead, done.
-- ARGV: id, cancel channel, keepDeadCount, keepDeadAgeMs (the dead set is trimmed as on any death).
-- Returns 'cancelled', 'cancelling' (running; its worker aborts it), 'finished' or 'missing'.
--!include base
--!include now
--!include emit
--!include unqueue
--!include trim
local leases, active, dead, done = KEYS[14], KEYS[15], KEYS[16], KEYS[17]
local id = ARGV[1]
local job = K.prefix .. id
if redis.call('EXISTS', job) == 0 then return 'missing' end
if redis.call('ZSCORE', leases, id) then
  redis.call('HSET', job, 'cx', '1')
  redis.call('SPUBLISH', ARGV[2], id)
  return 'cancelling'
end
if redis.call('ZSCORE', dead, id) or redis.call('ZSCORE', done, id) then return 'finished' end
-- Parked by a BLMOVE and not leased yet: the worker's next exchange finds it gone.
redis.call('LREM', active, -1, id)
unqueue(K, id, redis.call('HGET', job, 'g'), dead, done)
redis.call('HSET', job, 'dr', 'cancelled', 'f', now, 'e', 'cancelled before it ran')
redis.call('ZADD', dead, now, id)
emit(K, 'cancelled', id, 'dr', 'cancelled')
local dropped = trim(dead, K.prefix, tonumber(ARGV[3]), tonumber(ARGV[4]), now)
if dropped > 0 then redis.call('HINCRBY', K.stats, 'discarded', dropped) end
return 'cancelled'
