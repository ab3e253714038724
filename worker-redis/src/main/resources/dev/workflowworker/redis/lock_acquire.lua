-- Takes the lock and draws a fencing token in one step, so a token is consumed only by a
-- successful acquisition.
-- KEYS[1] lock key, KEYS[2] fencing counter
-- ARGV[1] owner (random per acquisition), ARGV[2] ttl (ms)
-- Returns the fencing token, or 0 when another holder has the lock.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
-- A repeat of an acquisition whose reply was lost: the lock is already ours, and while we hold
-- it nobody else can draw a token, so the counter still holds ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return tonumber(redis.call('GET', KEYS[2]))
end
return 0
