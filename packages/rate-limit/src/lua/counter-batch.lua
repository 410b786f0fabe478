-- Many checks with the sliding counter of lib/counter in one call, the checks of one tick that
-- share its numbers (rateLimit:counter:batch; see lib/batch-call). KEYS: one per check. ARGV:
-- limit, window (µs), then per check its cost, or minus its cost for a peek (all left out when
-- every check charges 1). Reply: the server time, then allowed, remaining, reset, retry, next per check
-- (an error reply and zeros for a check whose key Redis refused).
--!include batch-cost
--!include counter
local check = counter
--!include batch-call
