-- Included (--@include compact_entry) by the scripts that append to a partition: the compact form
-- of an entry (docs/ARCHITECTURE.md, "The wire contract"), one field COMPACT_FIELD whose value is
-- the eleven wire values in wire order, each as its byte length in decimal, a colon and its bytes.
local COMPACT_FIELD = 'e:1'
local WIRE_FIELDS = {'event_id', 'execution_id', 'event_name', 'event_type', 'tenant', 'timestamp',
  'from_state', 'to_state', 'user_id', 'payload_json', 'headers_json'}
-- The compact value of the eleven values in wire order, or nil when one is missing or not a string.
local function compact_value(values)
  local parts = {}
  for k = 1, #WIRE_FIELDS do
    local v = values[k]
    if type(v) ~= 'string' then
      return nil
    end
    parts[k] = #v .. ':' .. v
  end
  return table.concat(parts)
end
