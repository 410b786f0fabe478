-- aggregate: KEYS[1..3] the destination board (lib/keys.lua), then n source score keys, then n
-- source data keys (oldest first, so the newest data wins). ARGV[1] the destination's shift
-- (always 1: unused), [2] tie rule, [3] source shift, [4] SUM|MIN|MAX (stored terms), [5] copy data
-- ('1'), [6] TTL ms, [7..] weights, one per source. Returns the destination's size.
--
-- Without a tie-break, one ZUNIONSTORE; with earlier-first the sources' sequences cannot be summed,
-- so their raw scores are combined here (same O(total entries) as ZUNIONSTORE, slower constant) and
-- the destination has no tie-break.
--!include keys
--!include tie-rule
--!include fmt
local srcShift, mode, ttl = tonumber(ARGV[3]), ARGV[4], ARGV[6]
local n = #ARGV - 6
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
if srcShift == 1 then
  local args = {'ZUNIONSTORE', scoresKey, n}
  for i = 1, n do args[#args + 1] = KEYS[3 + i] end
  args[#args + 1] = 'WEIGHTS'
  for i = 1, n do args[#args + 1] = ARGV[6 + i] end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = mode
  redis.call(unpack(args))
else
  local totals, order = {}, {}
  for i = 1, n do
    local weight = tonumber(ARGV[6 + i])
    local flat = redis.call('ZRANGE', KEYS[3 + i], 0, -1, 'WITHSCORES')
    for j = 1, #flat, 2 do
      local member, v = flat[j], math.floor(tonumber(flat[j + 1]) / srcShift) * weight
      local t = totals[member]
      if t == nil then totals[member] = v; order[#order + 1] = member
      elseif mode == 'SUM' then totals[member] = t + v
      elseif mode == 'MIN' then if v < t then totals[member] = v end
      elseif v > t then totals[member] = v end
    end
  end
  for i = 1, #order, 500 do
    local args = {}
    for j = i, math.min(i + 499, #order) do
      args[#args + 1] = fmt(totals[order[j]]); args[#args + 1] = order[j]
    end
    redis.call('ZADD', scoresKey, unpack(args))
  end
end
if dense then
  local flat = redis.call('ZRANGE', scoresKey, 0, -1, 'WITHSCORES')
  local args, last = {}, nil
  for j = 2, #flat, 2 do
    if flat[j] ~= last then last = flat[j]; args[#args + 1] = flat[j]; args[#args + 1] = fmt(tonumber(flat[j])) end
    if #args >= 1000 then redis.call('ZADD', distinctKey, unpack(args)); args = {} end
  end
  if #args > 0 then redis.call('ZADD', distinctKey, unpack(args)) end
end
if ARGV[5] == '1' then
  for i = 1, n do
    local flat = redis.call('HGETALL', KEYS[3 + n + i])
    for j = 1, #flat, 1000 do redis.call('HSET', dataKey, unpack(flat, j, math.min(j + 999, #flat))) end
  end
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
return redis.call('ZCARD', scoresKey)
