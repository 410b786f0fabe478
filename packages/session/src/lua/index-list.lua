-- The live part of a user's index after pruning by score. KEYS: index. Returns handles.
--!include clock
--!include prune
prune(KEYS[1], clock())
return redis.call('ZRANGE', KEYS[1], 0, -1)
