-- Dead letter: append to the capped dead-letter stream and ack in one step.
-- Skipped when the entry is no longer pending: another consumer already settled it.
-- KEYS[1] stream, KEYS[2] dead-letter stream
-- ARGV[1] group, ARGV[2] entry id, ARGV[3] approximate max length, ARGV[4..] field/value pairs
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return false
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
