-- Moves an entry of a partition to the partition's dead-letter stream, atomically with its ack.
-- KEYS: stream, lease, held, dead letters. ARGV: group, lease value, entry id, dead-letter max
-- length, dead-letter fields and values. -1 unless the lease holds exactly this owner's value; 0
-- when the entry was no longer pending.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return -1
end
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[3]) == 0 then
  return 0
end
redis.call('HDEL', KEYS[3], ARGV[3])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 5))
return 1
