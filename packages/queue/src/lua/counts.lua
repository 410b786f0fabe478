-- One consistent snapshot of the queue's sizes, counters and pause.
-- KEYS: the base block (lib/base.lua), then leases, active, dead.
-- Returns { waiting (all kinds), active (leased + parked in `active`), delayed, dead, then the
-- counters added, completed, failed, stalled, discarded (nil where never counted), then
-- prioritized, grouped (both part of waiting), paused (1|0) }.
--!include base
--!include group-names
local s = redis.call('HMGET', K.stats, 'added', 'completed', 'failed', 'stalled', 'discarded')
local plain = redis.call('LLEN', K.waiting)
if plain > 0 and redis.call('LPOS', K.waiting, '') then plain = plain - 1 end
local prioritized, grouped = redis.call('ZCARD', K.prio), 0
for _, g in ipairs(groupNames(K)) do grouped = grouped + redis.call('LLEN', K.gprefix .. g) end
return { plain + prioritized + grouped, redis.call('ZCARD', KEYS[14]) + redis.call('LLEN', KEYS[15]),
  redis.call('ZCARD', K.delayed), redis.call('ZCARD', KEYS[16]), s[1], s[2], s[3], s[4], s[5],
  prioritized, grouped, K.paused and 1 or 0 }
