-- ARGV[2] of every script: the tie rule, 'ordinal', 'competition' or 'dense'. Only dense boards
-- keep the distinct index (KEYS[3]).
local tieRule = ARGV[2]
local dense = tieRule == 'dense'
