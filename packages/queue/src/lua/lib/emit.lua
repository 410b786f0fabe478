-- emit(q, name, id, ...): appends one event to the queue's capped stream (fields e = name, j = job
-- id, then the given field/value pairs), only while the stream is on (q.ev, its MAXLEN, above 0).
-- Approximate trimming (~) lets Redis drop whole radix-tree nodes, which keeps XADD O(1).
local function emit(q, name, id, ...)
  if q.ev > 0 then
    redis.call('XADD', q.events, 'MAXLEN', '~', q.ev, '*', 'e', name, 'j', id, ...)
  end
end
