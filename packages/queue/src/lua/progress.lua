-- Records a running job's progress and emits it, if the calling worker still holds the job.
-- KEYS: the base block (lib/base.lua), then owners. ARGV: token, id, serialized progress.
-- Returns 1, or 0 when the job is no longer this worker's (nothing written).
--!include base
--!include emit
if redis.call('HGET', KEYS[14], ARGV[2]) ~= ARGV[1] then return 0 end
redis.call('HSET', K.prefix .. ARGV[2], 'pg', ARGV[3])
emit(K, 'progress', ARGV[2], 'p', ARGV[3])
return 1
