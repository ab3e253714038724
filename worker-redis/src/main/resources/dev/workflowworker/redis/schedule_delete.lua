-- Deletes a schedule of a partition. KEYS: definitions, states, due set, runs, this call's marker
-- ({S#i}:sched:dx:<call id>). ARGV: id, how long the marker lives in ms.
-- Returns the state it had (false when there was none), read and deleted in one step, so a caller
-- moving the schedule to another partition carries on from exactly where the last firing left it.
-- Occurrences already in the stream still run.
-- A call whose reply was lost is sent again with the same call id: the marker holds the first
-- call's answer ('=' and the state, or '-' for none), so the resend answers what the deletion did
-- instead of "nothing there", and a move keeps the state it took.
local done = redis.call('GET', KEYS[5])
if done then
  if done == '-' then
    return false
  end
  return string.sub(done, 2)
end
local state = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('SET', KEYS[5], state and ('=' .. state) or '-', 'PX', ARGV[2])
return state
