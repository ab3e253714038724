-- Moves a dead letter back to the stream for another try: appends its original fields (without
-- the attempt count, so it starts afresh) and deletes it from the dead-letter stream, in one step.
-- KEYS[1] dead-letter stream, KEYS[2] stream
-- ARGV[1] dead-letter entry id, ARGV[2] '1' when the stream is a partition: fields that are
-- exactly the eleven wire fields go back in the compact form (compact_entry), any others named.
-- Returns the new entry id, or false when no such dead letter exists.
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if not found[1] then
  return false
end
local fields = found[1][2]
local original = nil
for i = 1, #fields, 2 do
  if fields[i] == 'original_message' then
    original = fields[i + 1]
  end
end
if not original then
  return redis.error_reply('dead letter ' .. ARGV[1] .. ' has no original_message')
end
--@include compact_entry
local decoded = cjson.decode(original)
if ARGV[2] == '1' then
  local n = 0
  for name, _ in pairs(decoded) do
    if name ~= 'attempt' then
      n = n + 1
    end
  end
  if n == #WIRE_FIELDS then
    local values = {}
    for k, name in ipairs(WIRE_FIELDS) do
      values[k] = decoded[name]
    end
    local value = compact_value(values)
    if value then
      local id = redis.call('XADD', KEYS[2], '*', COMPACT_FIELD, value)
      redis.call('XDEL', KEYS[1], ARGV[1])
      return id
    end
  end
end
local args = {}
for name, value in pairs(decoded) do
  if name ~= 'attempt' then
    table.insert(args, name)
    table.insert(args, tostring(value))
  end
end
if #args == 0 then
  return redis.error_reply('dead letter ' .. ARGV[1] .. ' has an empty original_message')
end
local id = redis.call('XADD', KEYS[2], '*', unpack(args))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
