-- Reads one identifier's state under each algorithm, writing nothing (rateLimit:inspect): the
-- source of the inspector's get() (src/inspect.ts), one atomic snapshot on the server's clock.
-- KEYS: the identifier's sliding log, sliding counter, fixed window and token bucket keys, then the
-- block key of each (in that order). ARGV[1]: the log's window (µs), or '0' to take it from the
-- log's key: its expiry is set a window after its newest entry (lib/log logTouch), so that is exact
-- unless a reward or refund has dropped the newest entries since (then it is too long).
-- Reply, every number a string (times in µs since the epoch of lib/clock, expiries in ms since
-- 1970), false for what is not there:
--   [1] now
--   [2..6] log: entries stored, entries live in the window, newest entry, oldest live entry, the window
--   [7..10] counter: window index, its count, the previous window's count, expiry
--   [11..13] fixed: window start, count, expiry
--   [14] token bucket: theoretical arrival time
--   [15..18] the four blocks: when each ends
--!include clock
local function fmt(n) return n and string.format('%d', n) or false end
-- When `key` expires, in ms since 1970 (negative for no expiry). PEXPIRETIME needs Redis 7; before
-- it, PTTL from the server's clock, right to within a millisecond.
local function expiryOf(key)
  local at = redis.pcall('PEXPIRETIME', key)
  if type(at) == 'number' then return at end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then return ttl end
  return 1577836800000 + math.floor(now / 1000) + ttl
end
local reply = { fmt(now) }

-- The log is newest first and expires from the tail (lib/log), so the live entries are a prefix of
-- it: a binary search finds where it ends with O(log n) LINDEX, and never pops what has expired.
local log = KEYS[1]
local stored = redis.call('LLEN', log)
if stored == 0 then
  reply[2], reply[3], reply[4], reply[5], reply[6] = '0', '0', false, false, false
else
  local newest = tonumber(redis.call('LINDEX', log, '0'))
  local window = tonumber(ARGV[1])
  if window == 0 then
    local expiry = expiryOf(log)
    -- expiresAt() rounds up to the ms; windows are whole ms.
    if expiry > 0 then window = math.floor(((expiry - 1577836800000) * 1000 - newest) / 1000) * 1000 end
  end
  local edge = now - window
  local live, oldest = 0, false
  if window > 0 and newest > edge then
    local lo, hi = 0, stored
    -- Invariant: entry lo is live; entry hi (or the end) is not.
    while hi - lo > 1 do
      local mid = math.floor((lo + hi) / 2)
      if tonumber(redis.call('LINDEX', log, mid)) > edge then lo = mid else hi = mid end
    end
    live, oldest = lo + 1, tonumber(redis.call('LINDEX', log, lo))
  end
  reply[2], reply[3], reply[4], reply[5], reply[6] =
    fmt(stored), fmt(live), fmt(newest), fmt(oldest), fmt(window > 0 and window or nil)
end

local counter = redis.call('HMGET', KEYS[2], 'i', 'c', 'p')
reply[7], reply[8], reply[9] = counter[1] or false, counter[2] or false, counter[3] or false
reply[10] = counter[1] and fmt(expiryOf(KEYS[2])) or false

local fixed = redis.call('HMGET', KEYS[3], 's', 'c')
reply[11], reply[12] = fixed[1] or false, fixed[2] or false
reply[13] = fixed[1] and fmt(expiryOf(KEYS[3])) or false

reply[14] = redis.call('GET', KEYS[4])
for i = 5, 8 do reply[i + 10] = redis.call('GET', KEYS[i]) end
return reply
