-- Moves entries of the single (seed-format) stream into one partition, in order and exactly once.
-- KEYS: partition stream, routed mark, the partition's delayed set and delayed entries (see
-- delayed_add). ARGV: the wake channel, the partition number, then one record per entry: its
-- source id, its field count, then its fields and values (the router sends an entry of exactly the
-- eleven wire fields as the one field of its compact form, compact_entry); or, for an entry with a due_at field,
-- its source id, 'D', its event id, its due time in ms and its stored entry (a delayed store's
-- entry, see stored_entry: compact when the seed entry had the eleven wire fields and due_at, else
-- the "length:bytes" packing of packed_fields, the due-at header set).
-- The mark is the last source id routed into this partition, set with the writes: a router that
-- crashed after routing and before acking the source re-reads the entries, and those at or below
-- the mark are skipped.
-- A delayed entry whose event id is waiting already changes nothing (as delayed_add); one due by
-- Redis TIME is appended at once, in its place among the others (compact when stored so, as
-- delayed_move appends it when it falls due); else it waits in the delayed
-- store, and the partition's owner is told on the wake channel when it became the earliest.
--@include stream_ids
--@include packed_fields
--@include compact_entry
--@include stored_entry
local function after(a, b)
  return less(b, a)
end
local mark = redis.call('GET', KEYS[2])
local routed = 0
local now
local wake = false
local i = 3
while i <= #ARGV do
  local id = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  if n then
    if not mark or after(id, mark) then
      redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 2, i + 1 + n))
      mark = id
      routed = routed + 1
    end
    i = i + 2 + n
  else
    if not mark or after(id, mark) then
      local event = ARGV[i + 2]
      if not redis.call('ZSCORE', KEYS[3], event) then
        local due = tonumber(ARGV[i + 3])
        if not now then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        if due <= now then
          append_stored(KEYS[1], ARGV[i + 4], true)
        else
          redis.call('ZADD', KEYS[3], due, event)
          redis.call('HSET', KEYS[4], event, ARGV[i + 4])
          if redis.call('ZRANGE', KEYS[3], 0, 0)[1] == event then
            wake = true
          end
        end
      end
      mark = id
      routed = routed + 1
    end
    i = i + 5
  end
end
if routed > 0 then
  redis.call('SET', KEYS[2], mark)
end
if wake then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return routed
