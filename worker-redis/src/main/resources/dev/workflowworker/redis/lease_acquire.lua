-- Takes a free partition lease. KEYS: lease, fence counter. ARGV: owner, ttl ms.
-- Returns the new token (the value is "owner|token"), or 0 when someone holds the lease. The token
-- comes from the partition's own counter, so it grows with every change of owner.
--@include fence
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local token = draw(KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. text(token), 'PX', ARGV[2])
return token
