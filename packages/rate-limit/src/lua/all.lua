-- Several limits of one identifier (rateLimit:all). KEYS: one per limit, sharing the identifier's
-- hash tag (one slot on Cluster). ARGV: charge ('1'/'0'), cost, then per limit its code (L, C, F,
-- G: lib/log, lib/counter, lib/fixed, lib/gcra) and the algorithm's two numbers. All limits are
-- checked first; only if every one admits the cost are they all charged, so no limit is charged
-- for a call another refuses.
-- Reply: server time (µs since the epoch of lib/clock), then allowed, remaining, reset, retry per
-- limit.
--!include cost
--!include log
--!include counter
--!include fixed
--!include gcra
local algorithms = { L = log, C = counter, F = fixed, G = gcra }
-- Checks every limit (and charges them when `apply`): the reply, and whether all admitted.
local function run(apply)
  local reply, ok = { now }, true
  for i = 1, #KEYS do
    local at = 3 + (i - 1) * 3
    local allowed, remaining, reset, retry =
      algorithms[ARGV[at]](KEYS[i], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), apply)
    if allowed == 0 then ok = false end
    reply[#reply + 1] = allowed
    reply[#reply + 1] = remaining
    reply[#reply + 1] = reset
    reply[#reply + 1] = retry
  end
  return reply, ok
end
local reply, ok = run(false)
if ARGV[1] == '1' and ok then reply = run(true) end
return reply
