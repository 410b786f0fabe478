-- A matrix submit: one member's score written to several boards of one matrix (one hash tag) in one
-- atomic step, each board under its own update policy, tie rule, keepTop and cycle TTL. Every check
-- runs on every board before the first write, so a refused submit writes nothing (an earlier-first
-- group renumbered on the way keeps its order and ranks: nothing a reader can tell).
-- KEYS: 3 per board, board b at KEYS[3b-2..3b] (scores, data, distinct as in lib/keys.lua).
-- ARGV[1], [2] unused (the libs' shift and tie rule, pointed at each board in turn), [3] member,
-- [4] has data ('1'), [5] data, then 7 per board: shift, tie rule, policy ('replace', 'best' or
-- 'increment'), raw value, max |raw| (0 = none), keepTop (0 = none), PEXPIREAT ms (0 = none).
-- Returns {1, stored score or false per board}; {0, board, out-of-range value}; {-1, board, members
-- sharing the score}; {-2, board} when the board's PEXPIREAT time has passed on the server's clock.
--!include keys
--!include shift
--!include tie-rule
--!include fmt
--!include raw-of
--!include leave
--!include next-seq
--!include trim
local member, hasData, data = ARGV[3], ARGV[4] == '1', ARGV[5]
local boards = #KEYS / 3

-- Points the included libs (their upvalues) at board b; returns its write parameters.
local function use(b)
  scoresKey, dataKey, distinctKey = KEYS[3 * b - 2], KEYS[3 * b - 1], KEYS[3 * b]
  local at = 5 + 7 * (b - 1)
  shift, tieRule = tonumber(ARGV[at + 1]), ARGV[at + 2]
  dense = tieRule == 'dense'
  return ARGV[at + 3], tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5]), tonumber(ARGV[at + 6]), ARGV[at + 7]
end

-- Phase 1: what each board will hold, and every reason to refuse, before any write.
local now = nil
local plans = {}
for b = 1, boards do
  local policy, value, maxRaw, _, expireAt = use(b)
  if expireAt ~= '0' then
    if now == nil then
      local t = redis.call('TIME')
      now = t[1] * 1000 + math.floor(t[2] / 1000)
    end
    if tonumber(expireAt) <= now then return {-2, b} end
  end
  local s = redis.call('ZSCORE', scoresKey, member)
  local oldRaw = nil
  if s then oldRaw = rawOf(tonumber(s)) end
  local newRaw = nil
  if policy == 'increment' then
    newRaw = (oldRaw or 0) + value
    local overflow = newRaw ~= newRaw or newRaw == math.huge or newRaw == -math.huge
    if overflow or (maxRaw > 0 and math.abs(newRaw) > maxRaw) then return {0, b, fmt(newRaw)} end
  elseif policy == 'best' then
    if oldRaw == nil or value < oldRaw then newRaw = value end
  else newRaw = value end
  local stored = s
  if newRaw ~= nil and newRaw ~= oldRaw then
    local seq = 0
    if shift > 1 then
      local next, size = nextSeq(newRaw)
      if next == nil then return {-1, b, size} end
      seq = next
    end
    stored = fmt(newRaw * shift + seq)
  end
  plans[b] = {stored, oldRaw, newRaw}
end

-- Phase 2: the writes, which cannot fail now.
local results = {1}
for b = 1, boards do
  local _, _, _, keepTop, expireAt = use(b)
  local stored, oldRaw, newRaw = plans[b][1], plans[b][2], plans[b][3]
  if newRaw ~= nil then
    if newRaw ~= oldRaw then
      redis.call('ZADD', scoresKey, stored, member)
      if dense then
        redis.call('ZADD', distinctKey, fmt(newRaw), fmt(newRaw))
        if oldRaw ~= nil then leave(oldRaw) end
      end
    end
    if hasData then redis.call('HSET', dataKey, member, data) end
  end
  trim(keepTop)
  if keepTop > 0 then stored = redis.call('ZSCORE', scoresKey, member) end
  if expireAt ~= '0' then
    for k = 3 * b - 2, 3 * b do redis.call('PEXPIREAT', KEYS[k], expireAt) end
  end
  results[b + 1] = stored
end
return results
