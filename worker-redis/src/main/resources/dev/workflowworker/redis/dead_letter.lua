-- Dead letter: append to the capped dead-letter stream and ack in one step.
-- Skipped when the entry is no longer pending: another consumer already settled it.
-- KEYS[1] stream, KEYS[2] dead-letter stream, KEYS[3] (a schedule occurrence only) its dead
-- marker, set for ARGV[4] ms: the overlap policy reads it as "finished" (no processed marker is
-- written, so a replay of the dead letter still runs)
-- ARGV[1] group, ARGV[2] entry id, ARGV[3] approximate max length, ARGV[4] the marker's lifetime
-- in ms, ARGV[5..] field/value pairs
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return false
end
if KEYS[3] then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 5))
