-- Moves an entry of a partition to the partition's dead-letter stream, settling it in the same
-- step. KEYS: lease, settled, held, dead letters, log. ARGV: the owner's stamp (partition_owner.lua),
-- entry id, dead-letter max length, dead-letter fields and values. -1 unless the lease holds exactly
-- this owner's value; -2 when the partition was opened again since the stamp's open; 0 when the
-- entry is settled already (this script ran before, its reply lost).
-- The position moves over the entry with the owner's next commit; until then a next owner skips it
-- as settled.
--@include partition_owner
local lease, opened = owner(ARGV[1])
if redis.call('GET', KEYS[1]) ~= lease then
  return -1
end
local log = redis.call('HMGET', KEYS[5], 'c', 'e')
if opened and log[2] ~= opened then
  return -2
end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then
  return 0
end
--@include stream_ids
local c = log[1]
if c and not less(c, ARGV[2]) then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
return 1
