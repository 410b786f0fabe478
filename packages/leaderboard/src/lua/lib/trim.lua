-- keepTop: drops every member past the best keepTop (0 = no limit), with its data and its place in
-- the distinct index.
--!include keys
--!include raw-of
--!include leave
--!include chunked
local function trim(keepTop)
  if keepTop == 0 or redis.call('ZCARD', scoresKey) <= keepTop then return end
  local gone = redis.call('ZRANGE', scoresKey, keepTop, -1, 'WITHSCORES')
  redis.call('ZREMRANGEBYRANK', scoresKey, keepTop, -1)
  local members = {}
  for j = 1, #gone, 2 do members[#members + 1] = gone[j] end
  chunked('HDEL', dataKey, members)
  for j = 2, #gone, 2 do leave(rawOf(tonumber(gone[j]))) end
end
