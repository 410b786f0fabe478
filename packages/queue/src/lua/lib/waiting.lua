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
  if #ids >= count then return ids end
  -- The plain list may hold one wake marker (the empty id), which is not a job: positions are
  -- counted without it, so the window read from the list is shifted past it.
  n = redis.call('LLEN', q.waiting)
  local at = redis.call('LPOS', q.waiting, '')
  local marker = at and n - 1 - at -- its position from the end workers take from
  local jobs = n - (marker and 1 or 0)
  if skip < jobs then
    local first, last = skip, skip + count - #ids - 1
    if marker and marker <= first then first, last = first + 1, last + 1
    elseif marker and marker <= last then last = last + 1 end
    local part = redis.call('LRANGE', q.waiting, -(last + 1), -(first + 1))
    local reversed = {}
    for j = #part, 1, -1 do reversed[#reversed + 1] = part[j] end
    take(reversed)
    skip = 0
  else
    skip = skip - jobs
  end
  for _, g in ipairs(groupNames(q)) do
    if #ids >= count then break end
    local list = q.gprefix .. g
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
