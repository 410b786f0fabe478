-- expiresAt(us): the PEXPIREAT argument for a time in the µs of `now` (lib/clock), rounded up to the
-- millisecond. Absolute rather than a PEXPIRE: a relative TTL counts from Redis's clock cut to the
-- millisecond (so up to 1 ms early), and Redis rewrites a PEXPIRE into a PEXPIREAT for replicas. A
-- string rather than a Lua number, which Redis formats with printf at a cost above the call's own.
-- 1577836800000 is the epoch of lib/clock in ms.
--
-- A lib of its own, included by the algorithms that set a TTL this way: Redis builds a closure for
-- every local function on every call, and GCRA does not use it.
--!include clock
local function expiresAt(us) return string.format('%d', 1577836800000 + math.ceil(us / 1000)) end
