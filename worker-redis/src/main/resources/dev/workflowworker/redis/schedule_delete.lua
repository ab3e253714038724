-- Deletes a schedule of a partition. KEYS: definitions, states, due set. ARGV: id.
-- Returns 1 if it existed. Occurrences already in the stream still run.
local existed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return existed
