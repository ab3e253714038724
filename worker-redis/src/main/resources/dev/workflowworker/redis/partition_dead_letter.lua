-- Moves an entry of a partition to the partition's dead-letter stream, settling it in the same
-- step. KEYS: lease, settled, held, dead letters, log. ARGV: the owner's stamp
-- (partition_owner.lua), entry id, dead-letter max length, dead-letter fields and values. -1 when
-- another owner opened the partition since (owned in partition_owner.lua); -2 when the partition
-- was opened again since the stamp's open; 0 when the entry is settled already (this script ran
-- before, its reply lost). The position moves over the entry with the owner's next commit; until
-- then a next owner skips it as settled.
--@include partition_owner
local log, refused = owned(ARGV[1], KEYS[1], KEYS[5], {'c'})
if not log then
  return refused
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
