-- `now`: the Redis server's time in ms. Every process is compared with this one clock, so lease
-- deadlines, due times and finish times do not depend on the workers' clocks.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
