-- One check of one limit with the sliding log of lib/log (rateLimit:log). KEYS[1]: the limit's key.
-- ARGV: charge ('1' to charge, '0' to only look), cost, limit, window (µs). Reply: server time (µs
-- since the epoch of lib/clock), allowed, remaining, reset (µs until fully restored), retry (µs
-- until this cost would fit; 0 if it fits now), next (µs until one more unit is back).
--!include cost
--!include log
local check = log
--!include single-call
