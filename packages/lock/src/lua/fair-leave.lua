-- A fair waiter gives up its place. KEYS: queue, marks, lock. ARGV: owner, release channel,
-- instance. Returns 1 if it was queued.
--
-- A waiter that leaves as the head of the queue while the lock is free may have been named by the
-- release that freed it: the next caller is then named in its place (the message of
-- fair-release.lua), so it need not wait for its poll.
local queue, marks, owner = KEYS[1], KEYS[2], ARGV[1]
local was_head = redis.call('LINDEX', queue, 0) == owner
redis.call('LREM', queue, 0, owner)
local queued = redis.call('ZREM', marks, owner)
if was_head and redis.call('EXISTS', KEYS[3]) == 0 then
  --!include live-head
  redis.call('SPUBLISH', ARGV[2], ARGV[3] .. '\n' .. (live_head(queue, marks) or ''))
end
return queued
