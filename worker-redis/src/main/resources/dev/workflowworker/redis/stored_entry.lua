-- Included (--@include stored_entry, after packed_fields and compact_entry) by the scripts that
-- append a delayed store's entry to a stream: delayed_move when it falls due, route when a seed
-- entry's due_at has passed already. A stored entry is, in its compact form, consecutive
-- MessagePack strings: the due time (24 characters, see due_header), headers_json without its
-- due-at key ('' when that was the only one), then the values of the other wire fields a first
-- delivery has, in wire order; the names are this script's, and the due-at key goes back first in
-- the headers. Unpacking it is one C call (cmsgpack), and it takes about half the memory of the
-- fields with their names. An entry with other fields is stored as "length:bytes" pairs
-- (packed_fields), told apart by its first byte (a digit; the compact form starts with 0xb8, a
-- string of 24). An entry in neither form is appended as it is under the field delayed_entry, for
-- the readers to dead-letter as malformed: kept for an operator, and the partition's later events
-- not held up. With compact true (the stream is a partition), a compact stored entry is appended
-- in the compact entry form (compact_entry), as every writer of a partition appends.
local function append_stored(stream, stored, compact)
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
