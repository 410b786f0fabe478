-- The cost of the check under way in a batch: declared before the algorithm, which reads them, and
-- set for each check by lib/batch-call (what they hold: lib/cost).
--!include clock
local cost, costArg
