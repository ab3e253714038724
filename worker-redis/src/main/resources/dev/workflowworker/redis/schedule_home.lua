-- Which partition each schedule lives in, for every process: a schedule lives in one partition
-- at a time, and moving it (its execution id changed) is several steps on several slots, which
-- this hash orders. KEYS[1]: the homes hash (id -> partition number, or "<from>><to>" while it
-- moves). ARGV[1]: schedule id, ARGV[2]: 'read' or 'cas'; for 'cas', ARGV[3] the value expected
-- ('' for none) and ARGV[4] the value to write ('' to remove the entry).
-- 'read' returns {value or '', Redis TIME in ms}: schedule math counts from Redis's clock, never
-- the caller's. 'cas' returns 1, or 0 when the value was not the expected one (the caller reads
-- again).
if ARGV[2] == 'read' then
  local t = redis.call('TIME')
  return {redis.call('HGET', KEYS[1], ARGV[1]) or '', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
end
if (redis.call('HGET', KEYS[1], ARGV[1]) or '') ~= ARGV[3] then
  return 0
end
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
end
return 1
