-- Included (--@include packed_fields) by the scripts that append stored entries to a stream.
-- An entry is stored as its fields and values, each written as its byte length, a colon and its
-- bytes, so a value may hold any byte (colons and quotes in JSON included) without escaping.
-- Returns a flat list field1, value1, field2, value2, ... for XADD.
local function unpack_fields(packed)
  local fields = {}
  local at = 1
  local n = #packed
  while at <= n do
    local colon = string.find(packed, ':', at, true)
    local len = tonumber(string.sub(packed, at, colon - 1))
    fields[#fields + 1] = string.sub(packed, colon + 1, colon + len)
    at = colon + len + 1
  end
  return fields
end
