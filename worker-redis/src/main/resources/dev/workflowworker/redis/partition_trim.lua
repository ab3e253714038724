-- Trims a partition below its committed position: every entry there is settled, whoever trims
-- (an owner with an older view of the position only trims less). KEYS: stream, log.
-- Returns the number of entries removed.
local c = redis.call('HGET', KEYS[2], 'c')
if not c or c == '0-0' or redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
return redis.call('XTRIM', KEYS[1], 'MINID', c)
