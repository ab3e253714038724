-- lock_acquire for a whole batch in one round trip (see lock_acquire.lua for the rules).
-- KEYS[1..n] lock keys, KEYS[n+1] fencing counter
-- ARGV[1..n] owners (random per acquisition), ARGV[n+1] ttl (ms)
-- Returns one fencing token per key, 0 where another holder has the lock. A key listed twice is
-- taken once: the second owner finds it held.
--@include fence
local n = #KEYS - 1
local ttl = ARGV[n + 1]
local tokens = {}
for i = 1, n do
  local held = redis.call('GET', KEYS[i])
  if not held then
    local token = draw(KEYS[n + 1])
    redis.call('SET', KEYS[i], ARGV[i] .. '|' .. text(token), 'PX', ttl)
    tokens[i] = token
  else
    local mine = ARGV[i] .. '|'
    if string.sub(held, 1, #mine) == mine then
      tokens[i] = tonumber(string.sub(held, #mine + 1))
    else
      tokens[i] = 0
    end
  end
end
return tokens
