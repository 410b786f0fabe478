-- One check of one limit with the GCRA token bucket of lib/gcra (rateLimit:gcra). KEYS[1]: the
-- limit's key. ARGV: charge ('1' to charge, '0' to only look), cost, burst, emission interval (µs).
-- Reply: server time (µs since the epoch of lib/clock), allowed, remaining, reset (µs until fully
-- restored), retry (µs until this cost would fit; 0 if it fits now), next (µs until one more unit is back).
--!include cost
--!include gcra
local check = gcra
--!include single-call
