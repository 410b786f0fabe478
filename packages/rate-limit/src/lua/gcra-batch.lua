-- Many checks with the GCRA token bucket of lib/gcra in one call, the checks of one tick that share
-- its numbers (rateLimit:gcra:batch; see lib/batch-call). KEYS: one per check. ARGV: burst,
-- emission interval (µs), then per check its cost, or minus its cost for a peek (all left out when
-- every check charges 1). Reply: the server time, then allowed, remaining, reset, retry, next per check
-- (an error reply and zeros for a check whose key Redis refused).
--!include batch-cost
--!include gcra
local check = gcra
--!include batch-call
