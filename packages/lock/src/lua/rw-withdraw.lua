-- A waiting writer gives up: its intent goes, and if it was there, the readers it held back are
-- woken on the release channel at once.
-- KEYS: intents. ARGV: intent, release channel, instance (the message). Returns 1 if removed.
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then redis.call('SPUBLISH', ARGV[2], ARGV[3]) end
return removed
