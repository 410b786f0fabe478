-- top / page / iterate: KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie rule, [3] with data
-- ('1'), [4] start index, [5] stop index (inclusive). Returns a range reply (lib/reply.lua).
--!include scores-key
--!include reply
return reply(tonumber(ARGV[4]), redis.call('ZRANGE', scoresKey, ARGV[4], ARGV[5], 'WITHSCORES'))
