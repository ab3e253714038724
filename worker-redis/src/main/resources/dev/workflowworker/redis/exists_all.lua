-- Which processed markers exist, in one round trip.
-- KEYS[1..n] processed markers. Returns 1 or 0 per key, in order.
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('EXISTS', KEYS[i])
end
return out
