-- Many checks with the fixed window of lib/fixed in one call, the checks of one tick that share its
-- numbers (rateLimit:fixed:batch; see lib/batch-call). KEYS: one per check. ARGV: limit, window
-- (µs), then per check its cost, or minus its cost for a peek (all left out when every check
-- charges 1). Reply: the server time, then allowed, remaining, reset, retry, next per check (an error
-- reply and zeros for a check whose key Redis refused).
--!include batch-cost
--!include fixed
local check = fixed
--!include batch-call
