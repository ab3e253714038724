-- Acks a batch of one partition's successes. KEYS: stream, lease, held, completed. ARGV: group,
-- lease value, completion time (ms), n, n entry ids, then for each a score/event id pair to
-- remember (fewer when some entries have no event id).
-- -1 (nothing acked) unless the lease holds exactly this owner's value: the lease is the lock of
-- every event in the partition, and a refused commit leaves the entries pending for the next
-- owner. The held marks of retried entries go with their ack, and the event ids go into the
-- completed set with it, so a later entry of the same event is recognised (partition_read.lua).
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return -1
end
local n = tonumber(ARGV[4])
local acked = 0
local i = 5
while i <= 4 + n do
  local j = math.min(4 + n, i + 3999)
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, j))
  redis.call('HDEL', KEYS[3], unpack(ARGV, i, j))
  i = j + 1
end
i = 5 + n
while i <= #ARGV do
  local j = math.min(#ARGV, i + 3999)
  redis.call('ZADD', KEYS[4], unpack(ARGV, i, j))
  i = j + 1
end
return acked
