-- Creates or replaces a schedule of a partition, from any process. KEYS: definitions (id -> the
-- schedule as JSON), states (id -> the owner's bookkeeping: next occurrence, counts, last fired,
-- ...), due set (score: when the next occurrence is due, member: id).
-- ARGV: id, definition, expected state ('' when creating; else the state the caller read, so a
-- replace that keeps the schedule's place cannot overwrite a firing that happened meanwhile),
-- state to write ('' to keep the stored one), due time in ms (-1: not due, paused or ended),
-- wake channel, partition number, expected definition ('' when creating; else the one the caller
-- read: a pause computed from an old definition must not undo a replace that left the state as it
-- was).
-- Returns 1, or 0 when the stored state or definition is not the expected one (the caller reads again).
if (redis.call('HGET', KEYS[2], ARGV[1]) or '') ~= ARGV[3] or (redis.call('HGET', KEYS[1], ARGV[1]) or '') ~= ARGV[8] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
end
if tonumber(ARGV[5]) < 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 1
end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
local first = redis.call('ZRANGE', KEYS[3], 0, 0)
if first[1] == ARGV[1] then
  redis.call('PUBLISH', ARGV[6], ARGV[7])
end
return 1
