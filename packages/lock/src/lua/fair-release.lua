-- The release of a `fair` lock: deletes the lock if `owner` still holds it, and wakes only the
-- caller whose turn it is. KEYS: lock, queue, marks (as in fair-attempt). ARGV: owner, release
-- channel, instance. Returns 1 if it deleted the lock, 0 if there was no lock (expired), -1 if
-- another owner holds it.
--
-- The message is the releasing instance, a newline, and the queue's live head (empty when nobody
-- waits): every other waiter of the name stays asleep, so a release costs Redis the same with 50
-- waiters as with one. A waiter that misses the message still polls at retry.delayMs.
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return current and -1 or 0 end
redis.call('DEL', KEYS[1])
--!include live-head
redis.call('SPUBLISH', ARGV[2], ARGV[3] .. '\n' .. (live_head(KEYS[2], KEYS[3]) or ''))
return 1
