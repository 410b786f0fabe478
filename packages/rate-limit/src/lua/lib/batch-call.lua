-- The body of a batch script: many single-limit checks of one algorithm and numbers in one EVALSHA,
-- for calls made in the same tick, each with `check`, the algorithm the script names
-- (`local check = log`, ...). KEYS, one per check; ARGV: the algorithm's two numbers, then one per
-- check: its cost, or minus its cost for a peek (all left out when every check charges 1). One
-- TIME serves them all, and each check runs exactly as the single script would, in order, so a
-- burst of 500 calls still admits exactly the limit. At 50 calls in flight this saves Redis a
-- script call, a TIME and the function set-up per check, which is most of what a check costs it.
--
-- Reply: one flat array, the server time then allowed, remaining, reset, retry, next per check (a table
-- per check costs Redis about 0.35 µs each to convert, a sixth of the whole call). A check whose
-- key Redis refused (a key of the wrong type) gets an error reply in its first slot and zeros:
-- under pcall, one bad key fails its own check only, and the others are decided and charged as
-- if alone.
--
-- The script includes lib/batch-cost before the algorithm: `cost` and `costArg` are set here.
local a, b = tonumber(ARGV[1]), tonumber(ARGV[2])
local replies = { now }
for i = 1, #KEYS do
  -- costArg goes to HINCRBY only when charging, when it is the positive cost as sent.
  costArg = ARGV[i + 2] or '1'
  local apply = true
  if costArg == '1' then cost = 1
  else
    cost = tonumber(costArg)
    if cost < 0 then cost, apply = -cost, false end
  end
  local ok, allowed, remaining, reset, retry, nextUnit = pcall(check, KEYS[i], a, b, apply)
  local at = 5 * i - 3
  if ok then
    replies[at], replies[at + 1], replies[at + 2], replies[at + 3], replies[at + 4] =
      allowed, remaining, reset, retry, nextUnit
  else
    replies[at] = { err = type(allowed) == 'table' and allowed.err or tostring(allowed) }
    replies[at + 1], replies[at + 2], replies[at + 3], replies[at + 4] = 0, 0, 0, 0
  end
end
return replies
