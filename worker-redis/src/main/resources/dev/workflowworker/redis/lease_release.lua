-- Gives a partition lease up so that another instance takes it at once. KEYS: lease. ARGV: exact value.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
