-- Retry: ack and add to the due-time set in one step.
-- An entry no longer pending was already settled elsewhere (claimed and finished by another
-- consumer); scheduling it again would duplicate work, so nothing is added.
-- KEYS[1] stream, KEYS[2] retry set
-- ARGV[1] group, ARGV[2] entry id, ARGV[3] due time (ms since epoch), ARGV[4] member
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
