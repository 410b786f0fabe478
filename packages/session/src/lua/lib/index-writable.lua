-- Fails the script before it writes anything unless `key` can take a user's index entry (no key,
-- or a sorted set): a ZADD that failed after the session's write would leave that session bound
-- to its user but missing from the user's index, since Redis does not undo a script's writes.
local function index_writable(key)
  local kind = redis.call('TYPE', key).ok
  if kind ~= 'none' and kind ~= 'zset' then
    return redis.error_reply('WRONGTYPE the user index key ' .. key .. ' holds a ' .. kind)
  end
end
