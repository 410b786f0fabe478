-- luacheck settings for the Lua scripts Redis runs (checked by `node scripts/lua.mjs --check`).
std = 'lua51'
max_line_length = 120
-- What Redis gives every script.
read_globals = { 'redis', 'KEYS', 'ARGV', 'cjson', 'cmsgpack', 'bit', 'struct' }
