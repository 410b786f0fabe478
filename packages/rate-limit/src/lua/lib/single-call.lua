-- The body of a single-limit script: one check of KEYS[1] with `check`, the algorithm the script
-- names (`local check = log`, ...). ARGV: charge ('1'/'0'), cost (read by lib/cost), then the
-- algorithm's two numbers. Reply: server time (µs since the epoch of lib/clock), allowed,
-- remaining, reset, retry, next.
local allowed, remaining, reset, retry, nextUnit = check(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[1] == '1')
return { now, allowed, remaining, reset, retry, nextUnit }
