import { defineScript, type Script } from '@redis-patterns/connection';
import type { AlgorithmArgs } from './algorithms.js';

/**
 * The scripts count time in microseconds since this epoch (2020-01-01T00:00:00Z) rather than since
 * 1970: the smaller numbers keep a double's resolution near 0.03 µs, so GCRA arrival times that add
 * a fractional emission interval again and again stay exact to well under a microsecond. It is a
 * whole number of days, so counter windows that divide a day start on UTC boundaries.
 */
export const EPOCH_SECONDS = 1_577_836_800;

// Every check is ONE script, so a check and its write can never interleave with another caller's
// (the race that lets a burst through check-then-add limiters), and several limits of one identifier
// are all checked before any is charged (no partial consumption). Time is the server's (TIME), so
// callers' clocks never matter.
//
// ARGV[1] is '1' to charge (limit) or '0' to only look (peek); ARGV[2] is the cost. Each algorithm
// is a function (key, a, b, apply) returning allowed (1/0), remaining, reset (µs until fully
// restored) and retry (µs until this cost would fit; 0 if it fits now); it writes only when `apply`
// is set and the cost fits. Lua's tostring keeps only 14 digits, so numbers above 1e14 (times in µs)
// go into values through string.format('%d') or as redis.call arguments (which keep 17).

/**
 * The server's time in µs since EPOCH_SECONDS, read once per script call, and expiresAt(us): the
 * PEXPIREAT argument for a time in the same µs, rounded up to the millisecond. Absolute rather than
 * a PEXPIRE: a relative TTL counts from Redis's clock cut to the millisecond (so up to 1 ms early),
 * and Redis rewrites a PEXPIRE into a PEXPIREAT for replicas. A string rather than a Lua number,
 * which Redis formats with printf at a cost above the call's own.
 */
const CLOCK = `
local t = redis.call('TIME')
local now = (t[1] - ${EPOCH_SECONDS}) * 1000000 + t[2]
local function expiresAt(us) return string.format('%d', ${EPOCH_SECONDS * 1000} + math.ceil(us / 1000)) end
`;

const PRELUDE = `${CLOCK}
-- Parsing a number costs Redis more than comparing a string: most calls cost 1. The cost also goes
-- to HINCRBY as the caller's string (costArg): Redis formats a Lua number with printf.
local costArg = ARGV[2]
local cost = costArg == '1' and 1 or tonumber(costArg)
`;

/**
 * Sliding log: a list of the server times (µs) of the units admitted, newest at the head; an entry
 * is live while its time > now - window. A list rather than a sorted set: pushing at the head and
 * popping expired entries at the tail touch only the ends, where a sorted set's ZADD and
 * ZREMRANGEBYSCORE search and parse every score, and an entry takes ~10 bytes instead of ~120.
 * The times go in in order (one server's clock); if that clock steps back, an entry may sit behind
 * a newer one and be counted until it reaches the tail, so the log refuses early.
 *
 * An admitted check of cost 1 is three to five calls, each at an end of the list: LINDEX the tail,
 * and if it has expired RPOP it and look again (a busy key loses about one entry per push), then
 * LPUSH (its reply is the count) and PEXPIREAT. A refused one is popped again.
 */
const LOG = `
local logMember = string.format('%d', now)
local logExpireAt, logExpireWindow

-- Drops the expired entries at the tail (the oldest). Peeks drop them too: that changes no
-- decision, and a peek that left them would read them all again next time.
local function logExpire(key, edge)
  local tail = redis.call('LINDEX', key, '-1')
  if not tail or tonumber(tail) > edge then return end
  redis.call('RPOP', key)
  tail = redis.call('LINDEX', key, '-1')
  if not tail or tonumber(tail) > edge then return end
  -- More than one expired (the key was idle): look at 2, 4, 8... entries at a time.
  local k = 2
  while true do
    local entries = redis.call('LRANGE', key, -k, -1)
    local n, e = #entries, 0
    while e < n and tonumber(entries[n - e]) <= edge do e = e + 1 end
    -- LTRIM rather than RPOP with a count, which needs Redis 6.2.
    if e > 0 then redis.call('LTRIM', key, 0, -(e + 1)) end
    if e < k then return end
    k = k * 2
  end
end

-- The key outlives its newest entry by a window (worked out once per window in a call).
local function logTouch(key, window)
  if window ~= logExpireWindow then
    logExpireWindow = window
    logExpireAt = expiresAt(now + window)
  end
  redis.call('PEXPIREAT', key, logExpireAt)
end

local function log(key, limit, window, apply)
  logExpire(key, now - window)
  local count
  if apply and cost == 1 then
    -- Push first: LPUSH replies with the count, which saves an LLEN; a refused push is popped again.
    count = redis.call('LPUSH', key, logMember)
    if count <= limit then
      logTouch(key, window)
      return 1, limit - count, window, 0
    end
    redis.call('LPOP', key)
    count = count - 1
  else
    count = redis.call('LLEN', key)
  end
  if count + cost <= limit then
    if not apply then
      local reset = 0
      if count > 0 then reset = math.max(0, redis.call('LINDEX', key, '0') + window - now) end
      return 1, limit - count, math.ceil(reset), 0
    end
    -- In chunks of 500: unpack() of one huge argument list overflows Lua's C stack.
    local args = { 'LPUSH', key }
    for _ = 1, cost do
      args[#args + 1] = logMember
      if #args >= 502 then
        redis.call(unpack(args))
        args = { 'LPUSH', key }
      end
    end
    if #args > 2 then redis.call(unpack(args)) end
    logTouch(key, window)
    return 1, limit - count - cost, window, 0
  end
  -- Refused and not recorded: live entries are the first 'count', newest first, so the one that
  -- must leave before 'cost' fits is at index limit - cost.
  local leaves = redis.call('LINDEX', key, limit - cost)
  local newest = redis.call('LINDEX', key, '0')
  return 0, math.max(0, limit - count), math.ceil(math.max(1, newest + window - now)),
    math.ceil(math.max(1, leaves + window - now))
end
`;

/**
 * Sliding counter: a hash { i = epoch-aligned window index, c = its count, p = the previous
 * window's count }; the previous count is weighted by the share of it the sliding window still
 * covers. A hash rather than one "i:c:p" string: within a window a call is HMGET and HINCRBY, with
 * no Lua string to split or build, which costs Redis about a fifth less per check.
 */
const COUNTER = `
local function counter(key, limit, window, apply)
  local index = math.floor(now / window)
  local elapsed = now - index * window
  local current, previous = 0, 0
  local stored = redis.call('HMGET', key, 'i', 'c', 'p')
  if stored[1] then
    local w = tonumber(stored[1])
    if w == index then current, previous = tonumber(stored[2]), tonumber(stored[3])
    elseif w == index - 1 then previous = tonumber(stored[2])
    elseif w == index + 1 then
      -- The server's clock stepped back over a window edge (by up to a window): stay in the stored
      -- window, which has not begun yet by this clock (elapsed < 0, the previous count weighs in
      -- whole), rather than start over. A larger step, or a window index from another windowMs,
      -- starts a fresh window as before.
      index, elapsed = w, now - w * window
      current, previous = tonumber(stored[2]), tonumber(stored[3])
    end
  end
  local estimate = previous * math.min(1, (window - elapsed) / window) + current
  local fits = estimate + cost <= limit
  if fits and apply then
    if current > 0 then
      -- Same window: same TTL (the end of the next window).
      current = redis.call('HINCRBY', key, 'c', costArg)
    else
      current = cost
      redis.call('HSET', key, 'i', index, 'c', costArg, 'p', previous)
      -- Until the end of the next window, when this window's count stops weighing in.
      redis.call('PEXPIREAT', key, expiresAt((index + 2) * window))
    end
    estimate = estimate + cost
  end
  local remaining = math.max(0, math.floor(limit - estimate))
  local reset = 0
  if current > 0 then reset = 2 * window - elapsed elseif previous > 0 then reset = window - elapsed end
  if fits then return 1, remaining, math.ceil(reset), 0 end
  local retry
  if current + cost <= limit then
    -- Wait in this window until the previous window's weight has shrunk enough.
    retry = (1 - (limit - current - cost) / previous) * window - elapsed
  else
    -- Wait for the next window, where this window's count becomes the weighted one.
    local share = 0
    if current > limit - cost then share = 1 - (limit - cost) / current end
    retry = window - elapsed + share * window
  end
  return 0, remaining, math.ceil(reset), math.ceil(retry)
end
`;

/**
 * Fixed window: a hash { s = start (µs), c = count }, anchored at the first admitted call after the
 * previous window ended. Within a window an admitted call is two HGETs and HINCRBY (no string to
 * split or build), and the TTL set when the window opened stays.
 */
const FIXED = `
local function fixed(key, limit, window, apply)
  local start, count = now, 0
  -- Two HGETs cost Redis less than one HMGET's table, and an ended window needs only the first.
  local s = redis.call('HGET', key, 's')
  if s then
    s = tonumber(s)
    if now < s + window then start, count = s, tonumber(redis.call('HGET', key, 'c')) end
  end
  local left = start + window - now
  if count + cost > limit then return 0, limit - count, math.ceil(left), math.ceil(left) end
  if apply then
    if count > 0 then
      count = redis.call('HINCRBY', key, 'c', costArg)
    else
      count = cost
      redis.call('HSET', key, 's', string.format('%d', start), 'c', costArg)
      redis.call('PEXPIREAT', key, expiresAt(start + window))
    end
  elseif count == 0 then left = 0 end
  return 1, limit - count, math.ceil(left), 0
end
`;

/** GCRA: the theoretical arrival time (TAT), one number; the bucket is full when TAT <= now. */
const GCRA = `
local function gcra(key, burst, interval, apply)
  local tat = redis.call('GET', key)
  tat = tat and tonumber(tat) or now
  if tat < now then tat = now end
  local capacity = burst * interval
  local after = tat + cost * interval
  -- Sums of fractional intervals round: half a microsecond of slack absorbs that.
  local fits = after - now <= capacity + 0.5
  if fits and apply then
    -- The TTL as a string: Redis formats a Lua number argument with printf, a third of the call.
    -- One ms more than the time to TAT: Redis counts PX from its clock cut to the millisecond (PXAT,
    -- exact, needs Redis 6.2).
    redis.call('SET', key, after, 'PX', string.format('%d', math.ceil((after - now) / 1000) + 1))
    tat = after
  end
  local remaining = math.floor((capacity - (tat - now) + 0.5) / interval)
  if fits then return 1, remaining, math.ceil(tat - now), 0 end
  return 0, remaining, math.ceil(tat - now), math.ceil(after - now - capacity)
end
`;

const ALGORITHMS = {
  L: ['log', LOG],
  C: ['counter', COUNTER],
  F: ['fixed', FIXED],
  G: ['gcra', GCRA],
} as const;

/**
 * One limit: KEYS[1]; ARGV: charge ('1'/'0'), cost, then the algorithm's two numbers.
 * Reply: server time (µs since EPOCH_SECONDS), allowed, remaining, reset, retry.
 */
function singleScript(code: AlgorithmArgs['code']): Script {
  const [fn, source] = ALGORITHMS[code];
  return defineScript(
    `rateLimit:${fn}`,
    `${PRELUDE}${source}
local allowed, remaining, reset, retry = ${fn}(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[1] == '1')
return { now, allowed, remaining, reset, retry }
`,
  );
}

/**
 * Many single-limit checks of one algorithm and numbers in one EVALSHA, for calls made in the same
 * tick: KEYS, one per check; ARGV: the algorithm's two numbers, then one per check: its cost, or
 * minus its cost for a peek (all left out when every check charges 1). One TIME serves them all,
 * and each check runs exactly as the single script would, in order, so a burst of 500 calls still
 * admits exactly the limit. At 50 calls in flight this saves Redis a script call, a TIME and the
 * function set-up per check, which is most of what a check costs it.
 *
 * Reply: one flat array, the server time then allowed, remaining, reset, retry per check (a table
 * per check costs Redis about 0.35 µs each to convert, a sixth of the whole call). A check whose
 * key Redis refused (a key of the wrong type) gets an error reply in its first slot and zeros:
 * under pcall, one bad key fails its own check only, and the others are decided and charged as
 * if alone.
 */
function batchScript(code: AlgorithmArgs['code']): Script {
  const [fn, source] = ALGORITHMS[code];
  return defineScript(
    `rateLimit:${fn}:batch`,
    `${CLOCK}
local cost, costArg
${source}
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
  local ok, allowed, remaining, reset, retry = pcall(${fn}, KEYS[i], a, b, apply)
  local at = 4 * i - 2
  if ok then replies[at], replies[at + 1], replies[at + 2], replies[at + 3] = allowed, remaining, reset, retry
  else
    replies[at] = { err = type(allowed) == 'table' and allowed.err or tostring(allowed) }
    replies[at + 1], replies[at + 2], replies[at + 3] = 0, 0, 0
  end
end
return replies
`,
  );
}

/** The batch script of each algorithm. */
export const batchScripts: Record<AlgorithmArgs['code'], Script> = {
  L: batchScript('L'),
  C: batchScript('C'),
  F: batchScript('F'),
  G: batchScript('G'),
};

/** The single-limit script of each algorithm. */
export const singleScripts: Record<AlgorithmArgs['code'], Script> = {
  L: singleScript('L'),
  C: singleScript('C'),
  F: singleScript('F'),
  G: singleScript('G'),
};

/**
 * Several limits of one identifier: KEYS, one per limit, share the identifier's hash tag (one slot
 * on Cluster); ARGV: charge, cost, then per limit its code (L, C, F, G) and two numbers. All limits
 * are checked first; only if every one admits the cost are they all charged.
 * Reply: server time, then allowed, remaining, reset, retry per limit.
 */
export const multiScript = defineScript(
  'rateLimit:all',
  `${PRELUDE}${LOG}${COUNTER}${FIXED}${GCRA}
local algorithms = { L = log, C = counter, F = fixed, G = gcra }
local function run(apply)
  local reply, ok = { now }, true
  for i = 1, #KEYS do
    local at = 3 + (i - 1) * 3
    local allowed, remaining, reset, retry =
      algorithms[ARGV[at]](KEYS[i], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), apply)
    if allowed == 0 then ok = false end
    reply[#reply + 1] = allowed
    reply[#reply + 1] = remaining
    reply[#reply + 1] = reset
    reply[#reply + 1] = retry
  end
  return ok, reply
end
local ok, reply = run(false)
if ARGV[1] == '1' and ok then ok, reply = run(true) end
return reply
`,
);

/**
 * reset: deletes every limit's key of one identifier. A script rather than a plain DEL: on Cluster
 * node-redis sends DEL through its multi-shard routing, a few ticks slower than a script, so a
 * reset not awaited could run after a check issued after it; scripts keep their order.
 */
export const resetScript = defineScript('rateLimit:reset', `return redis.call('DEL', unpack(KEYS))`);
