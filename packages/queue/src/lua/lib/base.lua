-- The key block every script that moves jobs takes first (keys.ts baseKeys sends it in this order),
-- as the table K the libs use, with the queue's settings from the `config` hash (one HMGET):
-- KEYS[1..13] = waiting, prio, delayed, stats, jobPrefix, groups, groupPrefix, gheld, events,
-- config, rate, groupRatePrefix, gactive. A script's own keys follow from KEYS[14].
local K = {
  waiting = KEYS[1], prio = KEYS[2], delayed = KEYS[3], stats = KEYS[4], prefix = KEYS[5],
  groups = KEYS[6], gprefix = KEYS[7], gheld = KEYS[8], events = KEYS[9], config = KEYS[10],
  rate = KEYS[11], grprefix = KEYS[12], gactive = KEYS[13],
}
local cfg = redis.call('HMGET', K.config, 'ev', 'paused', 'c', 'rm', 'ri', 'gc', 'grm', 'gri')
K.ev = tonumber(cfg[1]) or 0
K.paused = cfg[2] == '1'
K.c, K.rm, K.ri = tonumber(cfg[3]) or 0, tonumber(cfg[4]) or 0, tonumber(cfg[5]) or 0
K.gc, K.grm, K.gri = tonumber(cfg[6]) or 0, tonumber(cfg[7]) or 0, tonumber(cfg[8]) or 0
