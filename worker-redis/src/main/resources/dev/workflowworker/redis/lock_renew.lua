-- Extends the lease only if it is still ours; a lease that expired and was taken by another
-- holder must not be extended.
-- KEYS[1] lock key; ARGV[1] owner, ARGV[2] ttl (ms)
local held = redis.call('GET', KEYS[1])
local mine = ARGV[1] .. '|'
if held and string.sub(held, 1, #mine) == mine then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
