-- dense-index: KEYS: the board (lib/keys.lua). ARGV[1] shift, [2] tie rule (neither is read).
-- Returns { 1 if the board keeps a dense index (its distinct key) else 0, members on the board },
-- one snapshot: the inspector's check that a removal's tie rule is the board's (src/inspect.ts).
--!include scores-key
return { redis.call('EXISTS', KEYS[3]), redis.call('ZCARD', scoresKey) }
