-- redis.call(command, key, ...items) in calls of at most 1000 items, within what unpack can pass.
local function chunked(command, key, items)
  for i = 1, #items, 1000 do
    redis.call(command, key, unpack(items, i, math.min(i + 999, #items)))
  end
end
