-- Removes a job that is not running: waiting (any kind), delayed, dead or a kept completed one.
-- KEYS: the base block (lib/base.lua), then leases, active, dead, done. ARGV: id.
-- Returns 'removed', 'active' (running or being taken: nothing done; cancel it instead) or
-- 'missing'.
--!include base
--!include emit
--!include unqueue
local leases, active, dead, done = KEYS[14], KEYS[15], KEYS[16], KEYS[17]
local id = ARGV[1]
local job = K.prefix .. id
local g = redis.call('HGET', job, 'g')
if redis.call('EXISTS', job) == 0 then return 'missing' end
if redis.call('ZSCORE', leases, id) or redis.call('LPOS', active, id) then return 'active' end
local was = unqueue(K, id, g, dead, done)
redis.call('DEL', job)
if was ~= 'done' then redis.call('HINCRBY', K.stats, 'discarded', 1) end
emit(K, 'removed', id)
return 'removed'
