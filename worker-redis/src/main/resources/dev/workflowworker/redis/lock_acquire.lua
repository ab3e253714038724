-- Takes the lock and draws a fencing token in one step, so a token is consumed only by a
-- successful acquisition. One counter serves every key: a globally increasing token is strictly
-- increasing per key too, and memory stays constant however many keys there are.
-- The lock's value is "<owner>|<token>", so a repeat can recover its token.
-- KEYS[1] lock key, KEYS[2] fencing counter
-- ARGV[1] owner (random per acquisition), ARGV[2] ttl (ms)
-- Returns the fencing token, or 0 when another holder has the lock.
--@include fence
local held = redis.call('GET', KEYS[1])
if not held then
  local token = draw(KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. text(token), 'PX', ARGV[2])
  return token
end
-- A repeat of an acquisition whose reply was lost: the lock is already ours.
local mine = ARGV[1] .. '|'
if string.sub(held, 1, #mine) == mine then
  return tonumber(string.sub(held, #mine + 1))
end
return 0
