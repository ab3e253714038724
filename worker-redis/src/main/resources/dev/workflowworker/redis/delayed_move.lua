-- Appends the due events of one partition to its stream, for the partition's owner. KEYS: lease,
-- delayed set, entries, partition stream. ARGV: lease value, most events to move.
-- Due means due by Redis TIME. Each event leaves the set and enters the stream in this one script,
-- so none is lost or appended twice, and cancel/reschedule see it either waiting or gone.
-- Returns {-1} (nothing written) unless the lease holds exactly this owner's value: a stale owner
-- moves nothing. Else {moved, earliest remaining due time or -1, Redis time in ms}.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1}
end
--@include packed_fields
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  local packed = redis.call('HGET', KEYS[3], id)
  if packed then
    local fields = unpack_fields(packed)
    redis.call('XADD', KEYS[4], '*', unpack(fields))
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREM', KEYS[2], id)
end
local nextDue = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {#due, nextDue[2] or '-1', tostring(now)}
