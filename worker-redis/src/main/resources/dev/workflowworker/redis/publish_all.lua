-- Appends a batch of events to one stream, in order, at once. Used on a cluster for the events of
-- one partition: plain pipelined XADDs could be split by a slot moving mid-batch, some written to
-- the new node before the earlier ones, redirected, were sent again.
-- KEYS: the stream. ARGV: for each event, its field count, then its fields and values (on a
-- partition, the one field of the compact form where it fits, see compact_entry).
local ids = {}
local i = 1
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + n))
  i = i + 1 + n
end
return ids
