-- Appends the due events of one slot to its stream, for the slot's mover. KEYS: lease, delayed
-- set, entries, stream. ARGV: lease value, most events to move, '1' when the stream is a partition
-- (its entries of the eleven wire fields are appended in the compact form, see compact_entry).
-- Due means due by Redis TIME. Each event leaves the set and enters the stream in this one script,
-- so none is lost or appended twice, and cancel/reschedule see it either waiting or gone.
-- Returns {-1} (nothing written) unless the lease holds exactly this owner's value: a stale owner
-- moves nothing. A slot without a lease (the shared stream, where any process may move) passes
-- its stream as the lease key and '' as the value; a leased slot's caller names its lease key, so
-- no value it passes, '' included, skips the check. Else {moved, earliest remaining due time or -1, Redis time in ms, ids whose entry
-- was missing}: an id in the set without its entry (written by hand, or half deleted) is taken out
-- of the set, counted apart and named in the server log, never counted as moved.
-- The stored entries' forms, and how each is appended: stored_entry.
if not (ARGV[1] == '' and KEYS[1] == KEYS[4]) and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1}
end
--@include packed_fields
--@include compact_entry
--@include stored_entry
local stream = KEYS[4]
local compact = ARGV[3] == '1'

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local missing = {}
-- In slices: unpack() puts every element on Lua's C stack, which holds some thousands.
local SLICE = 1000
for from = 1, #ids, SLICE do
  local last = math.min(from + SLICE - 1, #ids)
  local stored = redis.call('HMGET', KEYS[3], unpack(ids, from, last))
  for k = 1, last - from + 1 do
    local s = stored[k]
    if s then
      append_stored(stream, s, compact)
    else
      missing[#missing + 1] = ids[from + k - 1]
    end
  end
  redis.call('HDEL', KEYS[3], unpack(ids, from, last))
end
if #ids > 0 then
  -- The ids read are the set's first #ids by rank: removed in one step, not one ZREM each.
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, #ids - 1)
end
if #missing > 0 then
  redis.log(redis.LOG_WARNING, 'delayed_move: ' .. #missing .. ' delayed event id(s) in ' .. KEYS[2]
    .. ' had no stored entry and were dropped, first: ' .. missing[1])
end
local nextDue = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {#ids - #missing, nextDue[2] or '-1', string.format('%d', now), missing}
