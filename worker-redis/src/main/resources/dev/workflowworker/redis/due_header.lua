-- Included (--@include due_header) by the scripts that fix a delayed event's due time.
-- The publisher writes the event's "due-at" header as a fixed-width UTC instant
-- (yyyy-mm-ddThh:mm:ss.mmmZ, 24 characters), so the script can put the due time it settles on
-- (from Redis TIME, or a reschedule) in its place without changing any length in the packed entry.
local function iso_millis(ms)
  local secs = math.floor(ms / 1000)
  local days = math.floor(secs / 86400)
  local rem = secs - days * 86400
  -- Civil date from days since 1970-01-01 (proleptic Gregorian), by 400-year eras.
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(rem / 3600),
    math.floor(rem % 3600 / 60), rem % 60, ms - secs * 1000)
end

local DUE_MARK = '"due-at":"'

-- The packed entry with its due-at header set to ms; unchanged when it carries none. Only the
-- headers_json field is searched (a payload may hold the same text), walking the length-prefixed
-- pairs; a header key is written by Jackson exactly as DUE_MARK, with no spaces.
local function with_due(packed, ms)
  local at = 1
  local n = #packed
  local index = 0
  local name
  while at <= n do
    local colon = string.find(packed, ':', at, true)
    local len = tonumber(string.sub(packed, at, colon - 1))
    local from = colon + 1
    index = index + 1
    if index % 2 == 1 then
      name = string.sub(packed, from, from + len - 1)
    elseif name == 'headers_json' then
      local mark = string.find(packed, DUE_MARK, from, true)
      if not mark or mark + #DUE_MARK + 24 > from + len then
        return packed
      end
      local value = mark + #DUE_MARK
      return string.sub(packed, 1, value - 1) .. iso_millis(ms) .. string.sub(packed, value + 24)
    end
    at = from + len
  end
  return packed
end
