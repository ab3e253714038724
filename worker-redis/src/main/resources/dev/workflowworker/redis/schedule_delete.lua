-- Deletes a schedule of a partition. KEYS: definitions, states, due set, runs. ARGV: id.
-- Returns the state it had (false when there was none), read and deleted in one step, so a caller
-- moving the schedule to another partition carries on from exactly where the last firing left it.
-- Occurrences already in the stream still run.
local state = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return state
