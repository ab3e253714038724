-- Returns due retries to the stream. Pop and append happen in one script, so concurrent movers
-- never both see a member (no duplicate) and a member never leaves the set without its XADD (no loss).
-- A member is a JSON array: [original entry id, field1, value1, field2, value2, ...].
-- KEYS[1] retry set, KEYS[2] stream
-- ARGV[1] now (ms since epoch), ARGV[2] most members to move
-- Returns {moved, earliest remaining due time or -1}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local entry = cjson.decode(member)
  redis.call('XADD', KEYS[2], '*', unpack(entry, 2))
end
local nextDue = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if nextDue[2] then
  return {#due, nextDue[2]}
end
return {#due, '-1'}
