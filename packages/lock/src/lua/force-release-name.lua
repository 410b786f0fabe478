-- Releases every grant of one name, whatever kind of lock it is (the inspect API's forceRelease),
-- and wakes its waiters as a release does. Waiters keep their places (fair queue, writer intents).
-- KEYS: base `<prefix>{name}` (a mutex's owner or a semaphore's holders), readers, writer.
-- ARGV: the release channel. Returns how many live grants it removed.
--!include server-now
local after = '(' .. tostring(now)
local removed = 0
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'string' then removed = 1
elseif kind == 'zset' then removed = redis.call('ZCOUNT', KEYS[1], after, '+inf') end
removed = removed + redis.call('ZCOUNT', KEYS[2], after, '+inf') + redis.call('ZCOUNT', KEYS[3], after, '+inf')
if redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) > 0 then redis.call('SPUBLISH', ARGV[1], '') end
return removed
