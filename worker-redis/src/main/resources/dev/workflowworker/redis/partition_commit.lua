-- Acks a batch of one partition's successes. KEYS: stream, lease, held. ARGV: group, lease value,
-- entry ids. -1 (nothing acked) unless the lease holds exactly this owner's value: the lease is
-- the lock of every event in the partition, and a refused commit leaves the entries pending for
-- the next owner. The held marks of retried entries go with their ack.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return -1
end
local acked = 0
local i = 3
while i <= #ARGV do
  local j = math.min(#ARGV, i + 3999)
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, j))
  redis.call('HDEL', KEYS[3], unpack(ARGV, i, j))
  i = j + 1
end
return acked
