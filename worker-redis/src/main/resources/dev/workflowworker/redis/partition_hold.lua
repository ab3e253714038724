-- Records that a retry holds an entry of a partition, with its next attempt and due time, so that
-- the next owner resumes its key at this entry after a crash. KEYS: lease, held. ARGV: lease value,
-- entry id, "attempt:dueMillis". 0 unless the lease holds exactly this owner's value.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
