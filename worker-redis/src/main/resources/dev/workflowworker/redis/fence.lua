-- Included (--@include fence) by the scripts that draw fencing tokens.
-- A counter lost with the data (Redis restarted without persistence) starts again above every
-- token drawn before it: at the server's clock in microseconds, which a counter drawing fewer than
-- a million tokens a second never overtakes. A counter below 10^15 (a time in microseconds long
-- past) was lost too: a shared-stream batch claim's plain INCRBY recreated it from nothing and had
-- not yet redrawn it (fence_redraw.lua), or died before it could.
local function clock_micros()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
local function draw(fence)
  if tonumber(redis.call('GET', fence) or '0') < 1e15 then
    redis.call('SET', fence, clock_micros())
  end
  return redis.call('INCR', fence)
end
-- Tokens have 16 digits, which Lua would print in exponent form: format them as integers.
local function text(token)
  return string.format('%.0f', token)
end
