-- Moves a dead letter back to the stream for another try: appends its original fields (without
-- the attempt count, so it starts afresh) and deletes it from the dead-letter stream, in one step.
-- KEYS[1] dead-letter stream, KEYS[2] stream
-- ARGV[1] dead-letter entry id
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
local args = {}
for name, value in pairs(cjson.decode(original)) do
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
