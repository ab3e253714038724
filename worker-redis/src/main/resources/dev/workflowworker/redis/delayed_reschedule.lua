-- Moves a waiting event to another due time. KEYS: the partition's delayed set. ARGV: event id,
-- due time in ms, wake channel, partition number. Returns 1 if it was still waiting, else 0.
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] == ARGV[1] then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
