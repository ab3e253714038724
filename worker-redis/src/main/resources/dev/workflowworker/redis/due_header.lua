-- Included (--@include due_header) by the scripts that fix a delayed event's due time.
-- The publisher writes the event's due time as a fixed-width UTC instant
-- (yyyy-mm-ddThh:mm:ss.mmmZ, 24 characters): at the start of a compact entry, or as the "due-at"
-- header of a packed one. The script puts the due time it settles on (from Redis TIME, or a
-- reschedule) in its place without changing any length in the stored entry.
-- Due times are kept within years 1970 to 9999, which that width holds (the publisher refuses a
-- later one; a delay counted from Redis TIME could still reach past it).
local LATEST_DUE = 253402300799999

local function clamp_due(ms)
  if ms < 0 then
    return 0
  elseif ms > LATEST_DUE then
    return LATEST_DUE
  end
  return ms
end

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

local DUE_KEY = '"due-at":"'

-- Where the due-at header's value starts in s, searching the headers JSON at s[from..last]; nil
-- when it has none of the fixed width. Only the key counts: it follows '{' or ',' (in valid JSON a
-- quote after those, unescaped, opens a key of this flat string map), so a header value that
-- holds the text "due-at":" (its quotes escaped) is never taken for it. Jackson writes no spaces.
local function due_value_at(s, from, last)
  local at = from + 1
  while true do
    local mark = string.find(s, DUE_KEY, at, true)
    if not mark then
      return nil
    end
    local value = mark + #DUE_KEY
    if value + 24 > last then
      return nil
    end
    local before = string.byte(s, mark - 1)
    if (before == 123 or before == 44) and string.byte(s, value + 24) == 34 then
      return value
    end
    at = mark + 1
  end
end

-- The bounds of the headers JSON in an entry packed as "length:bytes" pairs (see
-- delayed_move), or nil: the value named headers_json, found by walking the pairs (a payload may
-- hold the same text).
local function packed_headers_bounds(stored)
  local at = 1
  local n = #stored
  local index = 0
  local name
  while at <= n do
    local colon = string.find(stored, ':', at, true)
    local len = tonumber(string.sub(stored, at, colon - 1))
    local from = colon + 1
    index = index + 1
    if index % 2 == 1 then
      name = string.sub(stored, from, from + len - 1)
    elseif name == 'headers_json' then
      return from, from + len - 1
    end
    at = from + len
  end
  return nil
end

-- The stored entry with its due-at header set to ms; unchanged when it carries none. The compact
-- form (see delayed_move) starts with the due time itself, a MessagePack string of 24 bytes.
local function with_due(stored, ms)
  local first = string.byte(stored, 1)
  if first == 0xb8 then
    return string.sub(stored, 1, 1) .. iso_millis(ms) .. string.sub(stored, 26)
  elseif not first or first < 48 or first > 57 then
    return stored
  end
  local from, last = packed_headers_bounds(stored)
  if not from or last < from then
    return stored
  end
  local value = due_value_at(stored, from, last)
  if not value then
    return stored
  end
  return string.sub(stored, 1, value - 1) .. iso_millis(ms) .. string.sub(stored, value + 24)
end
