-- atRank: KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie rule, [3] with data ('1'),
-- [4] rank (1-based). The first entry holding that rank under the tie rule, as a range reply
-- (lib/reply.lua), or false (a gap in competition ranks, or past the end). Dense ranks find their
-- score in the distinct index.
--!include keys
--!include shift
--!include tie-rule
--!include fmt
--!include raw-of
--!include count-better
--!include reply
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
