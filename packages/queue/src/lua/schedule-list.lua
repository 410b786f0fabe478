-- One page of the schedules, with their next due times. KEYS: schedules, schednext.
-- ARGV: HSCAN cursor, count. Returns { next cursor ('0' at the end), (id, spec, due ms or false)* }.
local page = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local out, flat = { page[1] }, page[2]
for j = 1, #flat, 2 do
  out[#out + 1] = flat[j]
  out[#out + 1] = flat[j + 1]
  out[#out + 1] = redis.call('ZSCORE', KEYS[2], flat[j])
end
return out
