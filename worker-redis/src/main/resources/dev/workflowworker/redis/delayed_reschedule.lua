-- Moves a waiting event to another due time. KEYS: the partition's delayed set, its entries, this
-- call's marker. ARGV: event id, due time in ms, wake channel, partition number. Returns 1 if it
-- was still waiting, else 0. The entry's due-at header follows the new due time.
-- The marker (a key named by a per-call id, kept a minute) holds a first answer of 1, so a call
-- sent again after its reply was lost answers 1 even if the event has moved into the stream since.
local answered = redis.call('GET', KEYS[3])
if answered then
  return tonumber(answered)
end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
--@include due_header
local due = clamp_due(tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], 'XX', due, ARGV[1])
local stored = redis.call('HGET', KEYS[2], ARGV[1])
if stored then
  redis.call('HSET', KEYS[2], ARGV[1], with_due(stored, due))
end
redis.call('SET', KEYS[3], '1', 'PX', 60000)
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] == ARGV[1] then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
