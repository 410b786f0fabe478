-- The cost of a single-limit or multi-limit call: ARGV[1] is '1' to charge (limit) or '0' to only
-- look (peek); ARGV[2] is the cost, parsed here into `cost` and kept as sent in `costArg`, which
-- the algorithms read (a batch sets them per check instead: lib/batch-cost).
--
-- Each algorithm (lib/log, lib/counter, lib/fixed, lib/gcra) is a function (key, a, b, apply)
-- returning allowed (1/0), remaining, reset (µs until fully restored), retry (µs until this cost
-- would fit; 0 if it fits now) and next (µs until one more unit is available, 0 when none is used:
-- the `t` of the RateLimit header); it changes the limit's state only when `apply` is set and the
-- cost fits (lib/fixed and lib/log charge first and give a refused cost back in the same call).
--!include clock
-- Parsing a number costs Redis more than comparing a string: most calls cost 1. The cost also goes
-- to HINCRBY as the caller's string (costArg): Redis formats a Lua number with printf.
local costArg = ARGV[2]
local cost = costArg == '1' and 1 or tonumber(costArg)
