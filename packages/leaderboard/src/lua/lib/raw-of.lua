-- The raw score of a stored score (the sequence part dropped).
--!include shift
local function rawOf(stored)
  if shift == 1 then return stored end
  return math.floor(stored / shift)
end
