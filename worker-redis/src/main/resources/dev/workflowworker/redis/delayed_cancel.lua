-- Cancels a waiting event. KEYS: the partition's delayed set, its entries, this call's marker.
-- ARGV: event id.
-- Returns 1 if it was still waiting (it never runs now), 0 if it had moved into the stream or
-- was unknown. Atomic with delayed_move: an event is either moved or cancelled, never both.
-- The marker (a key named by a per-call id, kept a minute) holds a first answer of 1, so a call
-- sent again after its reply was lost answers what the first send did, not "gone".
local answered = redis.call('GET', KEYS[3])
if answered then
  return tonumber(answered)
end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], '1', 'PX', 60000)
return 1
