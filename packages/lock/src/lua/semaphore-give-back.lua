-- Removes the holder `owner` whatever its slot: the clean-up after an attempt whose reply never
-- came (it may have granted a permit nobody holds). Sent on the socket of that attempt, after it.
-- KEYS: holders. ARGV: owner, release channel, instance. Returns 1 if it removed a holder.
local suffix = ':' .. ARGV[1]
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], '0', '-1')) do
  if string.sub(member, -#suffix) == suffix then
    redis.call('ZREM', KEYS[1], member)
    redis.call('SPUBLISH', ARGV[2], ARGV[3])
    return 1
  end
end
return 0
