-- Moves a waiting event to another due time. KEYS: the partition's delayed set, its entries.
-- ARGV: event id, due time in ms, wake channel, partition number. Returns 1 if it was still
-- waiting, else 0. The entry's due-at header follows the new due time.
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
--@include due_header
redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
local packed = redis.call('HGET', KEYS[2], ARGV[1])
if packed then
  redis.call('HSET', KEYS[2], ARGV[1], with_due(packed, tonumber(ARGV[2])))
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] == ARGV[1] then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
