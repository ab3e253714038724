-- Removes consumers that own nothing and have been idle for long. Checking and deleting in one
-- script matters: XGROUP DELCONSUMER drops the consumer's pending entries, so a consumer that
-- read something between a separate check and the delete would lose work.
-- KEYS[1] stream
-- ARGV[1] group, ARGV[2] min idle (ms), ARGV[3] name of the calling consumer (never removed)
local removed = 0
local minIdle = tonumber(ARGV[2])
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for j = 1, #c, 2 do
    info[c[j]] = c[j + 1]
  end
  if info['name'] ~= ARGV[3] and info['pending'] == 0 and info['idle'] > minIdle then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed = removed + 1
  end
end
return removed
