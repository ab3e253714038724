-- Included (--@include stream_ids) by the scripts that compare stream ids: as numbers, milliseconds
-- then sequence, never as strings ("5-10" sorts before "5-9" as text).
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function less(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  return ams < bms or (ams == bms and aseq < bseq)
end
