-- Takes a free partition lease. KEYS: lease, fence counter. ARGV: owner, ttl ms.
-- Returns the new token (the value is "owner|token"), or 0 when someone holds the lease. The token
-- comes from the partition's own counter, so it grows with every change of owner.
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
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local token = draw(KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. text(token), 'PX', ARGV[2])
return token
