-- One attempt in strict FIFO order (`fair: true`): the lock goes to the oldest caller still
-- waiting, across processes. KEYS: lock, fence, queue (a list of owners, oldest first), marks (a
-- sorted set: owner -> the server time until which it counts as waiting). ARGV: owner, ttlMs,
-- markMs, join ('1': join the queue if not granted). Returns 1 and the fencing token when granted,
-- else 0 and the PTTL.
--
-- A caller renews its mark with each attempt; the head of the queue is skipped once its mark has
-- expired (its process died, or it left without saying so), so a dead waiter blocks the name for
-- at most markMs. Server time: the marks of all processes are compared with one clock.
--!include live-head
local lock, fence, queue, marks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local owner = ARGV[1]
local head = live_head(queue, marks)
if (not head or head == owner) and redis.call('SET', lock, owner, 'NX', 'PX', ARGV[2]) then
  if head then
    redis.call('LPOP', queue)
    redis.call('ZREM', marks, owner)
  end
  return {1, redis.call('INCR', fence)}
end
if ARGV[4] == '1' then
  local expiry = tostring(now + tonumber(ARGV[3]))
  if redis.call('ZADD', marks, expiry, owner) == 1 then redis.call('RPUSH', queue, owner) end
  redis.call('PEXPIRE', queue, ARGV[3])
  redis.call('PEXPIRE', marks, ARGV[3])
end
return {0, redis.call('PTTL', lock)}
