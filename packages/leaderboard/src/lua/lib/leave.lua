-- Called when a member leaves the score raw: keeps the distinct index exact, since a score leaves
-- it with the last member holding it.
--!include keys
--!include shift
--!include tie-rule
--!include fmt
local function leave(raw)
  if not dense then return end
  local size
  if shift == 1 then size = redis.call('ZCOUNT', scoresKey, fmt(raw), fmt(raw))
  else size = redis.call('ZCOUNT', scoresKey, fmt(raw * shift), '(' .. fmt((raw + 1) * shift)) end
  if size == 0 then redis.call('ZREM', distinctKey, fmt(raw)) end
end
