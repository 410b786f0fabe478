-- groupNames(q): the groups with waiting jobs, runnable ones first (rotation order), then the held
-- ones; each name once.
local function groupNames(q)
  local names, seen = {}, {}
  for _, list in ipairs({ redis.call('LRANGE', q.groups, 0, -1), redis.call('ZRANGE', q.gheld, 0, -1) }) do
    for _, g in ipairs(list) do
      if not seen[g] then
        seen[g] = true
        names[#names + 1] = g
      end
    end
  end
  return names
end
