-- Included (--@include fence) by the scripts that draw fencing tokens.
-- A counter lost with the data (Redis restarted without persistence) starts again above every
-- token drawn before it: at the server's clock in microseconds, which a counter drawing fewer than
-- a million tokens a second never overtakes.
local function clock_micros()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
local function draw(fence)
  if redis.call('EXISTS', fence) == 0 then
    redis.call('SET', fence, clock_micros())
  end
  return redis.call('INCR', fence)
end
-- Tokens have 16 digits, which Lua would print in exponent form: format them as integers.
local function text(token)
  return string.format('%.0f', token)
end
