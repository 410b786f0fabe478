--!include group-names
-- waitingIds(q, offset, count): up to `count` waiting ids from position `offset` of the order in
-- which they would be fetched if nothing else changed: prioritized, then plain, then each group's
-- list in turn. Wake markers are skipped.
local function waitingIds(q, offset, count)
  local ids, skip = {}, offset
  local function take(listed)
    for _, id in ipairs(listed) do
      if id ~= '' and #ids < count then ids[#ids + 1] = id end
    end
  end
  local n = redis.call('ZCARD', q.prio)
  if skip < n then take(redis.call('ZRANGE', q.prio, skip, skip + count - 1)); skip = 0 else skip = skip - n end
  local lists = { q.waiting }
  for _, g in ipairs(groupNames(q)) do lists[#lists + 1] = q.gprefix .. g end
  for _, list in ipairs(lists) do
    if #ids >= count then break end
    n = redis.call('LLEN', list)
    if skip < n then
      local part = redis.call('LRANGE', list, -(skip + count - #ids), -(skip + 1))
      local reversed = {}
      for j = #part, 1, -1 do reversed[#reversed + 1] = part[j] end
      take(reversed)
      skip = 0
    else
      skip = skip - n
    end
  end
  return ids
end
