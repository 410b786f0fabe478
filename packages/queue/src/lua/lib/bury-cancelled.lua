-- buryCancelled(q, id, dead): a job whose cancellation was asked for while it ran (`cx`) goes to the
-- dead set with reason `cancelled` instead of waiting or running again (a retry, a rescue, a
-- release at stop, or a lease that finds the mark). Returns true when it did.
--!include now
--!include emit
local function buryCancelled(q, id, dead)
  local job = q.prefix .. id
  if redis.call('HEXISTS', job, 'cx') == 0 then return false end
  redis.call('HSET', job, 'dr', 'cancelled', 'f', now, 'e', 'cancelled while it ran')
  redis.call('ZADD', dead, now, id)
  emit(q, 'cancelled', id, 'dr', 'cancelled')
  return true
end
