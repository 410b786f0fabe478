-- The first `count` jobs of one state with their hashes. KEYS: source, jobPrefix.
-- ARGV: kind (list: next to run first | zset: earliest first | zsetrev: newest first), count.
-- Returns flat (id, hash fields, score or false).
local kind, count, ids, scores = ARGV[1], tonumber(ARGV[2]), {}, {}
if kind == 'list' then
  local listed = redis.call('LRANGE', KEYS[1], -count, -1)
  for j = #listed, 1, -1 do ids[#ids + 1] = listed[j] end
else
  local cmd = kind == 'zset' and 'ZRANGE' or 'ZREVRANGE'
  local flat = redis.call(cmd, KEYS[1], 0, count - 1, 'WITHSCORES')
  for j = 1, #flat, 2 do
    ids[#ids + 1] = flat[j]
    scores[#ids] = flat[j + 1]
  end
end
local out = {}
for j, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', KEYS[2] .. id)
  out[#out + 1] = scores[j] or false
end
return out
