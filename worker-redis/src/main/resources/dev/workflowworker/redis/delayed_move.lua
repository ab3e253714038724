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
--
-- A stored entry is, in its compact form, consecutive MessagePack strings: the due time (24
-- characters, see due_header), headers_json without its due-at key ('' when that was the only
-- one), then the values of the other wire fields a first delivery has, in wire order; the names
-- are this script's, and the due-at key goes back first in the headers. Unpacking it is one C call
-- (cmsgpack), and it takes about half the memory of the fields with their names. An entry with
-- other fields is stored as "length:bytes" pairs (packed_fields), told apart by its first byte (a
-- digit; the compact form starts with 0xb8, a string of 24). An entry in neither form is appended
-- as it is under the field delayed_entry, for the readers to dead-letter as malformed: kept for an
-- operator, and the partition's later events not held up.
if not (ARGV[1] == '' and KEYS[1] == KEYS[4]) and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1}
end
--@include packed_fields
--@include compact_entry
local stream = KEYS[4]
local compact = ARGV[3] == '1'

local function append(stored)
  local first = string.byte(stored, 1)
  if first and first >= 48 and first <= 57 then
    local ok, fields = pcall(unpack_fields, stored)
    if ok then
      return redis.call('XADD', stream, '*', unpack(fields))
    end
  elseif first == 0xb8 then
    local ok, due, h, id, ex, nm, ty, te, ts, fr, to, us, pl = pcall(cmsgpack.unpack, stored)
    if ok and type(h) == 'string' and type(pl) == 'string' then
      if #h > 2 then
        h = '{"due-at":"' .. due .. '",' .. string.sub(h, 2)
      else
        h = '{"due-at":"' .. due .. '"}'
      end
      if compact then
        local value = compact_value({id, ex, nm, ty, te, ts, fr, to, us, pl, h})
        if value then
          return redis.call('XADD', stream, '*', COMPACT_FIELD, value)
        end
      end
      return redis.call('XADD', stream, '*', 'event_id', id, 'execution_id', ex, 'event_name', nm, 'event_type', ty,
        'tenant', te, 'timestamp', ts, 'from_state', fr, 'to_state', to, 'user_id', us, 'payload_json', pl,
        'headers_json', h)
    end
  end
  return redis.call('XADD', stream, '*', 'delayed_entry', stored)
end

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
      append(s)
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
