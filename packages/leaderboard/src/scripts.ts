import { defineScript } from '@redis-patterns/connection';

/*
 * Every Redis command of the leaderboard lives in this file.
 *
 * Keys of one board (one hash tag, so one Cluster slot):
 *   KEYS[1] scores    ZSET  member -> stored score
 *   KEYS[2] data      HASH  member -> JSON member data
 *   KEYS[3] distinct  ZSET  raw -> raw, one entry per distinct score (dense ranks only)
 *
 * Stored scores are always "lower is better": raw = score on low-to-high boards and -score on
 * high-to-low boards, so every script reads the board with ZRANK/ZRANGE ascending, and members with
 * equal scores fall in byte order of their ids in both directions. With earlier-first, the stored
 * score is raw * shift + seq (shift = 2^bits), exact while |stored| <= 2^53: equal raws are then
 * ordered by arrival, and raw is floor(stored / shift). Each group of equal raws numbers its own
 * arrivals (the last seq in the group + 1), so the sequence needs no key and only runs out when
 * 2^bits members arrive in one group while it never empties.
 *
 * Every script starts with ARGV[1] = shift and ARGV[2] = tie rule. Lua numbers are doubles; numbers
 * go back to Redis through fmt() (%.17g round-trips every double) and back to the client as
 * strings, since Redis truncates Lua numbers in replies to integers.
 */
const base = `
local scoresKey, dataKey, distinctKey = KEYS[1], KEYS[2], KEYS[3]
local shift = tonumber(ARGV[1])
local tieRule = ARGV[2]
local dense = tieRule == 'dense'
`;

/**
 * Helpers, in dependency order. Each script includes only those it uses: Lua creates a closure per
 * \`local function\` on every call, which costs the hot reads more Redis time than their commands.
 */
const helpers: Array<{ name: string; uses: string[]; lua: string }> = [
  { name: 'fmt', uses: [], lua: `local function fmt(x) return string.format('%.17g', x) end` },
  {
    name: 'rawOf',
    uses: [],
    lua: `local function rawOf(stored)
  if shift == 1 then return stored end
  return math.floor(stored / shift)
end`,
  },
  {
    // Members whose raw score is strictly better than raw: O(log n).
    name: 'countBetter',
    uses: ['fmt'],
    lua: `local function countBetter(raw)
  return redis.call('ZCOUNT', scoresKey, '-inf', '(' .. fmt(raw * shift))
end`,
  },
  {
    name: 'countAtOrBetter',
    uses: ['fmt'],
    lua: `local function countAtOrBetter(raw)
  if shift == 1 then return redis.call('ZCOUNT', scoresKey, '-inf', fmt(raw)) end
  return redis.call('ZCOUNT', scoresKey, '-inf', '(' .. fmt((raw + 1) * shift))
end`,
  },
  {
    // Ranks taken before raw's group: members strictly better (competition) or distinct better scores (dense).
    name: 'tieBase',
    uses: ['fmt', 'countBetter'],
    lua: `local function tieBase(raw)
  if dense then return redis.call('ZCOUNT', distinctKey, '-inf', '(' .. fmt(raw)) end
  return countBetter(raw)
end`,
  },
  {
    // Keeps the distinct index exact: a score leaves it with the last member holding it.
    name: 'leave',
    uses: ['fmt'],
    lua: `local function leave(raw)
  if not dense then return end
  local size
  if shift == 1 then size = redis.call('ZCOUNT', scoresKey, fmt(raw), fmt(raw))
  else size = redis.call('ZCOUNT', scoresKey, fmt(raw * shift), '(' .. fmt((raw + 1) * shift)) end
  if size == 0 then redis.call('ZREM', distinctKey, fmt(raw)) end
end`,
  },
  {
    name: 'chunked',
    uses: [],
    lua: `local function chunked(command, key, items)
  for i = 1, #items, 1000 do
    redis.call(command, key, unpack(items, i, math.min(i + 999, #items)))
  end
end`,
  },
  {
    // Range replies: {first ordinal index, tie base of the first entry or -1, flat [m, s, ...], data or nil}.
    name: 'reply',
    uses: ['rawOf', 'tieBase'],
    lua: `local function reply(first, flat)
  local base = -1
  if #flat > 0 and tieRule ~= 'ordinal' then base = tieBase(rawOf(tonumber(flat[2]))) end
  local data = false
  if ARGV[3] == '1' and #flat > 0 then
    data = {}
    for i = 1, #flat, 2000 do
      local members = {}
      for j = i, math.min(i + 1998, #flat - 1), 2 do members[#members + 1] = flat[j] end
      local values = redis.call('HMGET', dataKey, unpack(members))
      for j = 1, #values do data[#data + 1] = values[j] end
    end
  end
  return {first, base, flat, data}
end`,
  },
];

/** A script made of the shared locals, the helpers it uses (and theirs), and its body. */
function leaderboardScript(name: string, uses: string[], body: string) {
  const needed = new Set<string>();
  const add = (helper: string) => {
    if (needed.has(helper)) return;
    needed.add(helper);
    for (const dep of helpers.find((h) => h.name === helper)?.uses ?? []) add(dep);
  };
  for (const helper of uses) add(helper);
  const included = helpers.filter((h) => needed.has(h.name)).map((h) => h.lua);
  return defineScript(name, [base, ...included, body].join('\n'));
}

/**
 * submit / increment / submitMany. ARGV[3] policy, [4] max |raw| (0 = none), [5] keepTop (0 = none),
 * [6] PEXPIREAT ms (0 = none), then per entry: member, value, has data, data.
 * One script makes the score, the member data, the distinct index, the keepTop trim and the TTLs one
 * atomic step: no reader sees a score without its data, and no concurrent writer slips past keepTop.
 * Returns {1, stored score or nil per entry}; {0, entry index, out-of-range value} (nothing
 * written); {-1, entry index, members sharing its score} when a score group has used all 2^bits
 * arrival numbers (the entries before it are written, trimmed and given their TTL); {-2} when the
 * PEXPIREAT time has passed on the server's clock (nothing written: the keys would vanish at once).
 */
export const writeScript = leaderboardScript(
  'leaderboardWrite',
  ['fmt', 'rawOf', 'leave', 'chunked'],
  `
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

-- The arrival number of a member joining the group of raw: one after the group's last member.
local function nextSeq(raw)
  local lo, hi = fmt(raw * shift), '(' .. fmt((raw + 1) * shift)
  local last = redis.call('ZRANGE', scoresKey, hi, lo, 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
  if #last == 0 then return 0 end
  local seq = tonumber(last[2]) - raw * shift + 1
  if seq < shift then return seq end
  -- The group used all 2^bits numbers: renumber it 0, 1, 2... in its order (O(g log n) for its g
  -- members; each member moves down, never past the one before it), then continue after it.
  local group = redis.call('ZRANGE', scoresKey, lo, hi, 'BYSCORE')
  if #group >= shift then return nil, #group end
  for i = 1, #group do redis.call('ZADD', scoresKey, fmt(raw * shift + i - 1), group[i]) end
  return #group
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

if keepTop > 0 and redis.call('ZCARD', scoresKey) > keepTop then
  local gone = redis.call('ZRANGE', scoresKey, keepTop, -1, 'WITHSCORES')
  redis.call('ZREMRANGEBYRANK', scoresKey, keepTop, -1)
  local members = {}
  for j = 1, #gone, 2 do members[#members + 1] = gone[j] end
  chunked('HDEL', dataKey, members)
  for j = 2, #gone, 2 do leave(rawOf(tonumber(gone[j]))) end
end

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
`,
);

/** remove: ARGV[3..] members. Returns how many were on the board. */
export const removeScript = leaderboardScript(
  'leaderboardRemove',
  ['rawOf', 'leave', 'chunked'],
  `
local removed, members = 0, {}
for i = 3, #ARGV do
  local s = redis.call('ZSCORE', scoresKey, ARGV[i])
  if s then
    redis.call('ZREM', scoresKey, ARGV[i])
    removed = removed + 1
    leave(rawOf(tonumber(s)))
  end
  members[#members + 1] = ARGV[i]
end
chunked('HDEL', dataKey, members)
return removed
`,
);

/**
 * rank / entry / rankedList / percentile: ARGV[3] with data, [4] with percentile, [5..] members.
 * Returns {board size or -1, flat [stored, ordinal index, tie base, members ranked below] per member
 * (nil, -1, -1, -1 when absent), data or nil}.
 */
export const lookupScript = leaderboardScript(
  'leaderboardLookup',
  ['rawOf', 'tieBase', 'countAtOrBetter'],
  `
local withData, withBelow = ARGV[3] == '1', ARGV[4] == '1'
local card = -1
if withBelow then card = redis.call('ZCARD', scoresKey) end
local out, members = {}, {}
for i = 5, #ARGV do
  local member = ARGV[i]
  members[#members + 1] = member
  local s = redis.call('ZSCORE', scoresKey, member)
  if s then
    local raw = rawOf(tonumber(s))
    local index = redis.call('ZRANK', scoresKey, member)
    local base, below = -1, -1
    if tieRule ~= 'ordinal' then base = tieBase(raw) end
    if withBelow then
      if tieRule == 'ordinal' then below = card - index - 1 else below = card - countAtOrBetter(raw) end
    end
    out[#out + 1] = s; out[#out + 1] = index; out[#out + 1] = base; out[#out + 1] = below
  else
    out[#out + 1] = false; out[#out + 1] = -1; out[#out + 1] = -1; out[#out + 1] = -1
  end
end
local data = false
if withData and #members > 0 then data = redis.call('HMGET', dataKey, unpack(members)) end
return {card, out, data}
`,
);

/** top / page / iterate: ARGV[4] start index, [5] stop index (inclusive). */
export const rangeScript = leaderboardScript(
  'leaderboardRange',
  ['reply'],
  `
return reply(tonumber(ARGV[4]), redis.call('ZRANGE', scoresKey, ARGV[4], ARGV[5], 'WITHSCORES'))
`,
);

/**
 * around: ARGV[4] member, [5] radius, [6] fill borders. The member's index, the window and its
 * entries, ranks and data in one round trip; nil when the member is not on the board.
 */
const aroundFunction = `
local function around(member, radius, fill)
  local index = redis.call('ZRANK', scoresKey, member)
  if not index then return false end
  local lo, hi = math.max(0, index - radius), index + radius
  if fill then hi = lo + 2 * radius end
  local flat = redis.call('ZRANGE', scoresKey, lo, hi, 'WITHSCORES')
  if fill and lo > 0 and #flat / 2 < hi - lo + 1 then
    -- The window ran past the bottom: take the missing neighbours from above instead, so that
    -- 2 * radius + 1 come back whenever the board has them (no ZCARD on the common path).
    local last = lo + #flat / 2 - 1
    lo = math.max(0, last - 2 * radius)
    flat = redis.call('ZRANGE', scoresKey, lo, last, 'WITHSCORES')
  end
  return reply(lo, flat)
end
`;
const aroundCall = `${aroundFunction}
return around(ARGV[4], tonumber(ARGV[5]), ARGV[6] == '1')`;
const plainReply = `local function reply(first, flat) return {first, -1, flat, false} end`;

export const aroundScript = leaderboardScript('leaderboardAround', ['reply'], aroundCall);

/**
 * around on an ordinal board without member data (the common game-board call): the same window
 * with no helper functions, since Lua builds a closure per helper on every call and Redis time is
 * what bounds this read at high load.
 */
export const aroundPlainScript = leaderboardScript(
  'leaderboardAroundPlain',
  [],
  `${plainReply}${aroundCall}`,
);

/**
 * Several plain arounds of one board in one call, for calls made in the same tick: ARGV[4...] are
 * member, radius, fill per call. Reply: one around reply (or false) per call, in order.
 */
export const aroundPlainBatchScript = leaderboardScript(
  'leaderboardAroundPlainBatch',
  [],
  `${plainReply}${aroundFunction}
local replies = {}
for i = 4, #ARGV, 3 do
  replies[#replies + 1] = around(ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2] == '1')
end
return replies`,
);

/** scoreRange: ARGV[4] min, [5] max (stored bounds, '(' for exclusive), [6] limit (-1 = all). */
export const scoreRangeScript = leaderboardScript(
  'leaderboardScoreRange',
  ['reply'],
  `
local flat = redis.call('ZRANGE', scoresKey, ARGV[4], ARGV[5], 'BYSCORE', 'LIMIT', 0, ARGV[6], 'WITHSCORES')
local first = 0
if #flat > 0 then first = redis.call('ZRANK', scoresKey, flat[1]) end
return reply(first, flat)
`,
);

/**
 * atRank: ARGV[4] rank (1-based). The first entry holding that rank under the tie rule, or nil
 * (a gap in competition ranks, or past the end). Dense ranks find their score in the distinct index.
 */
export const atRankScript = leaderboardScript(
  'leaderboardAtRank',
  ['reply', 'fmt', 'countBetter'],
  `
local rank = tonumber(ARGV[4])
if dense then
  local found = redis.call('ZRANGE', distinctKey, rank - 1, rank - 1)
  if #found == 0 then return false end
  local raw = tonumber(found[1])
  local hi = fmt(raw)
  if shift > 1 then hi = '(' .. fmt((raw + 1) * shift) end
  local flat = redis.call('ZRANGE', scoresKey, fmt(raw * shift), hi, 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
  if #flat == 0 then return false end
  return reply(redis.call('ZRANK', scoresKey, flat[1]), flat)
end
local flat = redis.call('ZRANGE', scoresKey, rank - 1, rank - 1, 'WITHSCORES')
if #flat == 0 then return false end
if tieRule == 'competition' and countBetter(rawOf(tonumber(flat[2]))) ~= rank - 1 then return false end
return reply(rank - 1, flat)
`,
);

/**
 * aggregate: KEYS[1..3] the destination board, then n source score keys, then n source data keys
 * (oldest first, so the newest data wins). ARGV[3] source shift, [4] SUM|MIN|MAX (stored terms),
 * [5] copy data, [6] TTL ms, [7..] weights. Without a tie-break, one ZUNIONSTORE; with earlier-first
 * the sources' sequences cannot be summed, so their raw scores are combined here (same O(total
 * entries) as ZUNIONSTORE, slower constant) and the destination has no tie-break.
 */
export const aggregateScript = leaderboardScript(
  'leaderboardAggregate',
  ['fmt'],
  `
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
`,
);
