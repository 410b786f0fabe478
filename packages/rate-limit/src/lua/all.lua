-- Several limits of one identifier, or one limit with what the batched scripts leave out (a block,
-- a penalty, a reward) (rateLimit:all). KEYS: one per limit, sharing the identifier's hash tag (one
-- slot on Cluster), then the identifier's block key when ARGV[3] is not '0'.
-- ARGV: the operation ('1' charge, '0' peek, '+' penalty, '-' reward, 'r<µs>' refund of the call
-- charged at that server time), the cost (the units of a penalty, reward or refund), the block (µs an identifier is blocked for when a charge is refused; '0' for
-- none), then per limit its code (L, C, F, G: lib/log, lib/counter, lib/fixed, lib/gcra) and the
-- algorithm's two numbers. A charge checks every limit first and charges them only if every one
-- admits the cost, so no limit is charged for a call another refuses. A penalty or reward changes
-- every limit's count without a check, then peeks a cost of 1.
-- Reply: server time (µs since the epoch of lib/clock), then allowed, remaining, reset, retry, next
-- per limit, then the µs left of the identifier's block (0 when it is not blocked).
--!include cost
--!include log
--!include counter
--!include fixed
--!include gcra
--!include adjust
local algorithms = { L = log, C = counter, F = fixed, G = gcra }
local op, limits = ARGV[1], #KEYS
local charged
if string.sub(op, 1, 1) == 'r' then op, charged = '-', tonumber(string.sub(op, 2)) end
local blockKey
if ARGV[3] ~= '0' then blockKey, limits = KEYS[limits], limits - 1 end
-- Checks every limit (and charges them when `apply`): the reply, and whether all admitted.
local function run(apply)
  local reply, ok = { now }, true
  for i = 1, limits do
    local at = 4 + (i - 1) * 3
    local allowed, remaining, reset, retry, nextUnit =
      algorithms[ARGV[at]](KEYS[i], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), apply)
    if allowed == 0 then ok = false end
    local n = #reply
    reply[n + 1], reply[n + 2], reply[n + 3], reply[n + 4], reply[n + 5] =
      allowed, remaining, reset, retry, nextUnit
  end
  return reply, ok
end
if op == '+' or op == '-' then
  for i = 1, limits do
    local at = 4 + (i - 1) * 3
    adjust[ARGV[at]](KEYS[i], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), op == '+', charged)
  end
  cost, costArg = 1, '1'
end
-- A block outlasts the limits: while it holds, every call is refused and nothing is charged.
local blocked = 0
if blockKey then
  local ends = redis.call('GET', blockKey)
  if ends then blocked = math.max(0, tonumber(ends) - now) end
end
local reply, ok = run(false)
if blocked == 0 and op == '1' then
  if ok then reply = run(true)
  elseif blockKey then
    -- Refused: the identifier is blocked from now, in this same call (it never extends a block).
    blocked = tonumber(ARGV[3])
    redis.call('SET', blockKey, string.format('%d', now + blocked), 'PX',
      string.format('%d', math.ceil(blocked / 1000) + 1))
  end
end
if blocked > 0 then
  blocked = math.ceil(blocked)
  for i = 1, limits do
    local at = 2 + (i - 1) * 5
    reply[at], reply[at + 1] = 0, 0
    reply[at + 2] = math.max(reply[at + 2], blocked)
    reply[at + 3] = math.max(reply[at + 3], blocked)
    reply[at + 4] = math.max(reply[at + 4], blocked)
  end
end
reply[#reply + 1] = blocked
return reply
