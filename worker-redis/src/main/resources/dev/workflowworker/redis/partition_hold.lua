-- Records that a retry holds an entry of a partition, with its next attempt and due time, so that
-- the next owner resumes its key at this entry after a crash. KEYS: lease, held, log, settled.
-- ARGV: the owner's stamp (partition_owner.lua), entry id, "attempt:dueMillis". 0 when another
-- owner opened the partition since (owned in partition_owner.lua); 3, recording nothing, when the
-- partition was opened again since the stamp's open (a hold whose reply was lost, landing after the
-- reopen); 2, recording nothing, when the entry is settled already (at or below the position, or in
-- settled): its mark would stay, counted as a retry waiting, until the next open.
--@include partition_owner
local log, refused = owned(ARGV[1], KEYS[1], KEYS[3], {'c'})
if not log then
  return refused == -1 and 0 or 3
end
--@include stream_ids
local c = log[1]
if (c and not less(c, ARGV[2])) or redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then
  return 2
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
