-- Moves an entry of a partition to the partition's dead-letter stream, settling it in the same
-- step. KEYS: lease, settled, held, dead letters, log. ARGV: lease value, entry id, dead-letter max
-- length, dead-letter fields and values. -1 unless the lease holds exactly this owner's value; 0
-- when the entry is settled already (this script ran before, its reply lost).
-- The position moves over the entry with the owner's next commit; until then a next owner skips it
-- as settled.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then
  return 0
end
--@include stream_ids
local c = redis.call('HGET', KEYS[5], 'c')
if c and not less(c, ARGV[2]) then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
return 1
