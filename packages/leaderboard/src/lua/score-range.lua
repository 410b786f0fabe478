-- scoreRange: KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie rule, [3] with data ('1'),
-- [4] min, [5] max (stored bounds, '(' for exclusive), [6] limit (-1 = all).
-- Returns a range reply (lib/reply.lua).
--!include scores-key
--!include reply
local flat = redis.call('ZRANGE', scoresKey, ARGV[4], ARGV[5], 'BYSCORE', 'LIMIT', 0, ARGV[6], 'WITHSCORES')
local first = 0
if #flat > 0 then first = redis.call('ZRANK', scoresKey, flat[1]) end
return reply(first, flat)
