-- expire_at_least(key, at): the sorted set `key` (scores: expiries in server ms) lives at least
-- until `at`, so it expires with its last holder and a name nobody uses leaves nothing behind.
-- GT keeps the later of its expiry and `at` (one command in the usual case); a key without an
-- expiry (just created) does nothing under GT, and gets `at` through NX.
local function expire_at_least(key, at)
  if redis.call('PEXPIREAT', key, at, 'GT') == 0 then redis.call('PEXPIREAT', key, at, 'NX') end
end
