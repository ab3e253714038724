-- Draws a shared-stream batch's fencing tokens again when the batch's INCRBY found the counter
-- lost with the data (BatchLocks): the counter had started from nothing, below every token drawn
-- before. KEYS[1]: the counter. ARGV[1]: how many tokens, ARGV[2]: the least a seeded counter
-- holds (a time in microseconds long past). A counter below it is seeded from the server's clock,
-- as fence.lua seeds a missing one, never a host's; racing redraws seed it once.
-- Returns the last token drawn.
--@include fence
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], clock_micros())
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
