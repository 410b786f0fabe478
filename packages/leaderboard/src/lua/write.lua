-- submit / increment / submitMany: one script makes the score, the member data, the distinct
-- index, the keepTop trim and the TTLs one atomic step, so no reader sees a score without its data,
-- and no concurrent writer slips past keepTop.
-- KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie rule, [3] policy ('replace', 'best' or
-- 'increment'), [4] max |raw| (0 = none), [5] keepTop (0 = none), [6] PEXPIREAT ms
-- (0 = none), then per entry: member, value, has data ('1'), data.
-- Returns {1, stored score or nil per entry}; {0, entry index, out-of-range value} (nothing
-- written); {-1, entry index, members sharing its score} when a score group has used all 2^bits
-- arrival numbers (the entries before it are written, trimmed and given their TTL); {-2} when the
-- PEXPIREAT time has passed on the server's clock (nothing written: the keys would vanish at once).
--!include keys
--!include shift
--!include tie-rule
--!include fmt
--!include raw-of
--!include leave
--!include next-seq
--!include trim
local policy, maxRaw, keepTop = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local expireAt = ARGV[6]
local count = (#ARGV - 6) / 4

if expireAt ~= '0' then
  local t = redis.call('TIME')
  if tonumber(expireAt) <= t[1] * 1000 + math.floor(t[2] / 1000) then return {-2} end
end

-- Increments are checked before the first write, so a batch is applied whole or not at all.
if policy == 'increment' then
  local totals = {}
  for i = 1, count do
    local member = ARGV[3 + 4 * i]
    local total = totals[member]
    if total == nil then
      local s = redis.call('ZSCORE', scoresKey, member)
      total = s and rawOf(tonumber(s)) or 0
    end
    total = total + tonumber(ARGV[4 + 4 * i])
    if total ~= total or total == math.huge or total == -math.huge or (maxRaw > 0 and math.abs(total) > maxRaw) then
      return {0, i, fmt(total)}
    end
    totals[member] = total
  end
end

local finals, full, fullCount = {}, nil, 0
for i = 1, count do
  local member, value = ARGV[3 + 4 * i], tonumber(ARGV[4 + 4 * i])
  local s = redis.call('ZSCORE', scoresKey, member)
  local oldRaw = nil
  if s then oldRaw = rawOf(tonumber(s)) end
  local newRaw = nil
  if policy == 'increment' then newRaw = (oldRaw or 0) + value
  elseif policy == 'best' then
    -- 'best' compares raw scores, not stored ones: the sequence part must never decide it.
    if oldRaw == nil or value < oldRaw then newRaw = value end
  else newRaw = value end
  if newRaw ~= nil then
    -- An unchanged score keeps its sequence: the member got there first.
    if newRaw ~= oldRaw then
      local stored = newRaw
      if shift > 1 then
        local seq, members = nextSeq(newRaw)
        -- The group is full: stop here, but trim and set the TTLs of what was written below.
        if seq == nil then full, fullCount = i, members; break end
        stored = newRaw * shift + seq
      end
      s = fmt(stored)
      redis.call('ZADD', scoresKey, s, member)
      if dense then
        redis.call('ZADD', distinctKey, fmt(newRaw), fmt(newRaw))
        if oldRaw ~= nil then leave(oldRaw) end
      end
    end
    if ARGV[5 + 4 * i] == '1' then redis.call('HSET', dataKey, member, ARGV[6 + 4 * i]) end
  end
  finals[member] = s
end

trim(keepTop)

if expireAt ~= '0' then
  for _, key in ipairs(KEYS) do redis.call('PEXPIREAT', key, expireAt) end
end
if full then return {-1, full, fullCount} end

local results = {1}
for i = 1, count do
  local member = ARGV[3 + 4 * i]
  if keepTop > 0 then results[i + 1] = redis.call('ZSCORE', scoresKey, member) else results[i + 1] = finals[member] end
end
return results
