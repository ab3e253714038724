-- Success: ack and processed marker in one step, so a crash cannot leave one without the other.
-- KEYS[1] stream, KEYS[2] processed marker
-- ARGV[1] group, ARGV[2] entry id, ARGV[3] marker ttl (ms), ARGV[4] marker value
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
return acked
