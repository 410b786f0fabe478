-- One page of the jobs of one state, with their hashes. Waiting jobs come in the order they would
-- be fetched (lib/waiting.lua), active ones by lease deadline, delayed ones earliest due first, dead
-- and completed ones newest first.
-- KEYS: the base block (lib/base.lua), then leases, dead, done.
-- ARGV: state (waiting | active | delayed | dead | completed), offset, count.
-- Returns flat (id, hash fields, score or false).
--!include base
--!include waiting
local state, offset, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ids, scores = {}, {}
if state == 'waiting' then
  ids = waitingIds(K, offset, count)
else
  local source = ({ active = KEYS[14], delayed = K.delayed, dead = KEYS[15], completed = KEYS[16] })[state]
  local cmd = (state == 'dead' or state == 'completed') and 'ZREVRANGE' or 'ZRANGE'
  local flat = redis.call(cmd, source, offset, offset + count - 1, 'WITHSCORES')
  for j = 1, #flat, 2 do
    ids[#ids + 1] = flat[j]
    scores[#ids] = flat[j + 1]
  end
end
local out = {}
for j, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', K.prefix .. id)
  out[#out + 1] = scores[j] or false
end
return out
