-- `now`: the server's clock in ms. Expiries of holders are compared with this one clock, so the
-- clocks of the processes that hold permits never matter.
local server_time = redis.call('TIME')
local now = tonumber(server_time[1]) * 1000 + math.floor(tonumber(server_time[2]) / 1000)
