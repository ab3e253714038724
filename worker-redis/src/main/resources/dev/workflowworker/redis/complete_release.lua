-- Success for a batch and its locks released, atomically. A delivery is completed (acked with its
-- processed marker) only while its lock still holds its owner: if the lease ran out and another
-- holder may be running the event, the success is refused and the entry stays pending.
-- KEYS[1] stream, KEYS[2..n+1] lock keys, KEYS[n+2..2n+1] processed markers
-- ARGV[1] group, ARGV[2] marker ttl (ms), ARGV[3] marker value,
-- ARGV[4..n+3] entry ids, ARGV[n+4..2n+3] the exact values the locks hold while still ours
-- Returns per delivery: 1 completed, 2 already completed (marker present; entry acked), 0 refused.
local n = (#KEYS - 1) / 2
local out = {}
local acks = {}
local dels = {}

local function each_chunk(command, head, items)
  local i = 1
  while i <= #items do
    local j = math.min(#items, i + 4000)
    local args = {}
    for _, h in ipairs(head) do args[#args + 1] = h end
    for k = i, j do args[#args + 1] = items[k] end
    redis.call(command, unpack(args))
    i = j + 1
  end
end

local held = {}
local i = 2
while i <= n + 1 do
  local j = math.min(n + 1, i + 4000)
  local part = redis.call('MGET', unpack(KEYS, i, j))
  for _, v in ipairs(part) do held[#held + 1] = v end
  i = j + 1
end

for k = 1, n do
  local id = ARGV[3 + k]
  -- An exact match (a missing key reads as false): cheaper than building and cutting strings.
  if held[k] == ARGV[n + 3 + k] then
    redis.call('SET', KEYS[n + 1 + k], ARGV[3], 'PX', ARGV[2])
    acks[#acks + 1] = id
    dels[#dels + 1] = KEYS[1 + k]
    out[k] = 1
  elseif redis.call('EXISTS', KEYS[n + 1 + k]) == 1 then
    -- Completed already (by a repeat of this call whose reply was lost, or by another holder).
    acks[#acks + 1] = id
    out[k] = 2
  else
    out[k] = 0
  end
end
each_chunk('XACK', {KEYS[1], ARGV[1]}, acks)
each_chunk('DEL', {}, dels)
return out
