-- Trims the stream below the oldest entry any group still needs: for every group, its oldest
-- pending entry and its last-delivered id (entries after it are not yet delivered).
-- Nothing is trimmed while no group exists.
-- KEYS[1] stream
-- Returns the number of entries removed.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
--@include stream_ids
local minId = nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for j = 1, #g, 2 do
    info[g[j]] = g[j + 1]
  end
  -- The last-delivered entry itself is no longer needed unless it is pending, which the
  -- pending check below covers; MINID keeps entries >= the id, hence the successor.
  local lastMs, lastSeq = parse(info['last-delivered-id'])
  local candidate = string.format('%d-%d', lastMs, lastSeq + 1)
  if lastMs == 0 and lastSeq == 0 then
    candidate = '0-0'
  end
  local pending = redis.call('XPENDING', KEYS[1], info['name'])
  if pending[1] > 0 and less(pending[2], candidate) then
    candidate = pending[2]
  end
  if minId == nil or less(candidate, minId) then
    minId = candidate
  end
end
if minId == nil or minId == '0-0' then
  return 0
end
return redis.call('XTRIM', KEYS[1], 'MINID', minId)
