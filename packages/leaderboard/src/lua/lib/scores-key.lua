-- KEYS[1], the board's scores (see keys.lua, which declares the others too).
local scoresKey = KEYS[1]
