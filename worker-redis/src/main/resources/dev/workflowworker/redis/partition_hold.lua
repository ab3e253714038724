-- Records that a retry holds an entry of a partition, with its next attempt and due time, so that
-- the next owner resumes its key at this entry after a crash. KEYS: lease, held, log, settled.
-- ARGV: the owner's stamp (partition_owner.lua), entry id, "attempt:dueMillis". 0 unless the lease
-- holds exactly this owner's value; 3, recording nothing, when the partition was opened again since
-- the stamp's open (a hold whose reply was lost, landing after the reopen); 2, recording nothing,
-- when the entry is settled already (at or below the position, or in settled): its mark would stay,
-- counted as a retry waiting, until the next open.
--@include partition_owner
local lease, opened = owner(ARGV[1])
if redis.call('GET', KEYS[1]) ~= lease then
  return 0
end
--@include stream_ids
local log = redis.call('HMGET', KEYS[3], 'c', 'e')
if opened and log[2] ~= opened then
  return 3
end
local c = log[1]
if (c and not less(c, ARGV[2])) or redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then
  return 2
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
