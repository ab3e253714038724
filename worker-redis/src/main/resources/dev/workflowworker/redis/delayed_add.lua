-- Stores an event to be appended to its partition at a due time. KEYS: the partition's delayed set
-- (score: due time in ms, member: event id), its entries (event id -> stored entry, see
-- delayed_move). ARGV: event id, 'at' or 'after', due time or delay in ms, the stored entry, wake
-- channel, partition number.
-- A delay is counted from Redis TIME, never from the publisher's clock.
-- The entry's due-at header, if it has one, is set to the due time settled on here.
-- Returns {1, due} when stored, {0, due} when the id was already waiting (nothing changes, so a
-- producer may retry a publish whose answer it lost). When the new event is the partition's
-- earliest, the owner is told on the wake channel, since it sleeps until the earliest due time.
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
if known then
  return {0, known}
end
--@include due_header
local due = tonumber(ARGV[3])
if ARGV[2] == 'after' then
  local t = redis.call('TIME')
  due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + math.max(0, due)
end
due = clamp_due(due)
redis.call('ZADD', KEYS[1], due, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], with_due(ARGV[4], due))
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] == ARGV[1] then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
return {1, string.format('%d', due)}
