-- Moves entries of the single (seed-format) stream into one partition, in order and exactly once.
-- KEYS: partition stream, routed mark. ARGV: for each entry, its source id, its field count, then
-- its fields and values. The mark is the last source id routed into this partition, set with the
-- XADDs: a router that crashed after routing and before acking the source re-reads the entries,
-- and those at or below the mark are skipped.
--@include stream_ids
local function after(a, b)
  return less(b, a)
end
local mark = redis.call('GET', KEYS[2])
local routed = 0
local i = 1
while i <= #ARGV do
  local id = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  if not mark or after(id, mark) then
    redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 2, i + 1 + n))
    mark = id
    routed = routed + 1
  end
  i = i + 2 + n
end
if routed > 0 then
  redis.call('SET', KEYS[2], mark)
end
return routed
