-- The server's time, read once per script call: `now`, in microseconds since 2020-01-01T00:00:00Z
-- (1577836800 s after 1970, EPOCH_SECONDS in src/algorithms.ts; a test checks that the two agree).
-- Server time (TIME), so callers' clocks never matter.
--
-- Why not since 1970: the smaller numbers keep a double's resolution near 0.03 µs, so GCRA arrival
-- times that add a fractional emission interval again and again stay exact to well under a
-- microsecond. The epoch is a whole number of days, so counter windows that divide a day start on
-- UTC boundaries.
--
-- Lua's tostring keeps only 14 digits, so numbers above 1e14 (times in µs) go into values through
-- string.format('%d') or as redis.call arguments (which keep 17).
local t = redis.call('TIME')
local now = (t[1] - 1577836800) * 1000000 + t[2]
