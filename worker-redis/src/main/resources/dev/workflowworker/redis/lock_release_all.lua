-- lock_release for a batch: each lock is deleted only if it is still ours.
-- KEYS[1..n] lock keys; ARGV[1..n] owners
local released = 0
for i = 1, #KEYS do
  local held = redis.call('GET', KEYS[i])
  local mine = ARGV[i] .. '|'
  if held and string.sub(held, 1, #mine) == mine then
    released = released + redis.call('DEL', KEYS[i])
  end
end
return released
