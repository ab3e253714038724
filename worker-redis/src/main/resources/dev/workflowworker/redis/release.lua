-- Hands entries back at shutdown: each one this consumer owns is appended again with its exact
-- fields (so its attempt count is unchanged) and acked, in one step, making it readable by any
-- consumer at once instead of after claimIdle.
-- KEYS[1] stream
-- ARGV[1] group, ARGV[2] consumer, ARGV[3..] entry ids
local released = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
    redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
    if e[1] then
      redis.call('XADD', KEYS[1], '*', unpack(e[1][2]))
      redis.call('XDEL', KEYS[1], ARGV[i])
      released = released + 1
    end
  end
end
return released
