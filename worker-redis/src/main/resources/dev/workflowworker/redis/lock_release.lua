-- Deletes the lock only if it is still ours, never another holder's.
-- KEYS[1] lock key; ARGV[1] owner
local held = redis.call('GET', KEYS[1])
local mine = ARGV[1] .. '|'
if held and string.sub(held, 1, #mine) == mine then
  return redis.call('DEL', KEYS[1])
end
return 0
