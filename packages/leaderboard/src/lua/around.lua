-- around: KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie rule, [3] with data ('1'),
-- [4] member, [5] radius, [6] fill borders ('1'). The member's index, the window and its entries,
-- ranks and data in one round trip: a range reply (lib/reply.lua), or false when the member is not
-- on the board.
--!include reply
--!include around
return around(ARGV[4], tonumber(ARGV[5]), ARGV[6] == '1')
