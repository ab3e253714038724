-- complete for a batch: every entry is acked together with its processed marker, in one step.
-- KEYS[1] stream, KEYS[2..n+1] processed markers
-- ARGV[1] group, ARGV[2] marker ttl (ms), ARGV[3] marker value, ARGV[4..n+3] entry ids (same order)
local ids = {}
for i = 4, #ARGV do
  ids[#ids + 1] = ARGV[i]
end
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[3], 'PX', ARGV[2])
end
return acked
