-- Takes the lock and draws a fencing token in one step, so a token is consumed only by a
-- successful acquisition. One counter serves every key: a globally increasing token is strictly
-- increasing per key too, and memory stays constant however many keys there are.
-- The lock's value is "<owner>|<token>", so a repeat can recover its token.
-- KEYS[1] lock key, KEYS[2] fencing counter
-- ARGV[1] owner (random per acquisition), ARGV[2] ttl (ms)
-- Returns the fencing token, or 0 when another holder has the lock.
-- A counter lost with the data (Redis restarted without persistence) starts again above every
-- token drawn before it: at the server's clock in microseconds, which a counter drawing fewer than
-- a million tokens a second never overtakes.
local function draw(fence)
  if redis.call('EXISTS', fence) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', fence, t[1] .. string.format('%06d', tonumber(t[2])))
  end
  return redis.call('INCR', fence)
end
-- Tokens pass 2^31 and Lua would print them in exponent form: format them as integers.
local function text(token)
  return string.format('%.0f', token)
end
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
