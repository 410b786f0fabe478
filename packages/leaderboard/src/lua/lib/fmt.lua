-- A number as Redis should get it: %.17g round-trips every double.
local function fmt(x) return string.format('%.17g', x) end
