-- Releases one holder of one name, whatever kind of lock it is (the inspect API's
-- forceReleaseHolder), and wakes the name's waiters as its own release would.
-- KEYS: base `<prefix>{name}` (a mutex's owner or a semaphore's holders), readers, writer.
-- ARGV: owner id, release channel. Returns 1 if it removed a live grant of `owner`, else 0 (an
-- expired one is removed all the same: its permit was free for others already).
--!include server-now
local owner, channel = ARGV[1], ARGV[2]
local function drop(key, member, expiry)
  redis.call('ZREM', key, member)
  redis.call('SPUBLISH', channel, '')
  if tonumber(expiry) > now then return 1 end
  return 0
end
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'string' then
  if redis.call('GET', KEYS[1]) ~= owner then return 0 end
  redis.call('DEL', KEYS[1])
  redis.call('SPUBLISH', channel, '')
  return 1
end
if kind == 'zset' then
  local members = redis.call('ZRANGE', KEYS[1], '0', '-1', 'WITHSCORES')
  for i = 1, #members, 2 do
    if string.match(members[i], '^%d+:(.*)$') == owner then return drop(KEYS[1], members[i], members[i + 1]) end
  end
  return 0
end
for _, key in ipairs({ KEYS[2], KEYS[3] }) do
  local expiry = redis.call('ZSCORE', key, owner)
  if expiry then return drop(key, owner, expiry) end
end
return 0
