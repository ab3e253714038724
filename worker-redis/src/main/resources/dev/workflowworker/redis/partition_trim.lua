-- Trims a partition below its committed position: every entry there is settled, whoever trims
-- (an owner with an older view of the position only trims less). KEYS: stream, log, held.
-- Held marks at or below the position go too: their entries are settled and never read again, and
-- a mark is otherwise dropped only by its entry's commit or the next open (one written by a hold of
-- an earlier version, whose late holds were not refused, may be unknown to the log committing it);
-- not the placeholder '0-0' an open puts there (partition_open.lua).
-- Returns the number of entries removed.
--@include stream_ids
local c = redis.call('HGET', KEYS[2], 'c')
if not c or c == '0-0' then
  return 0
end
-- Read the marks only when there is one: nearly every trim finds none, and the placeholder alone
-- (an open's, so HLEN is 1 and not 0 from then on) is no mark.
local marks = redis.call('HLEN', KEYS[3])
if marks > 1 or (marks == 1 and redis.call('HEXISTS', KEYS[3], '0-0') == 0) then
  for _, id in ipairs(redis.call('HKEYS', KEYS[3])) do
    if id ~= '0-0' and not less(c, id) then
      redis.call('HDEL', KEYS[3], id)
    end
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
return redis.call('XTRIM', KEYS[1], 'MINID', c)
