-- Cancels a waiting event. KEYS: the partition's delayed set, its entries. ARGV: event id.
-- Returns 1 if it was still waiting (it never runs now), 0 if it had moved into the stream or
-- was unknown. Atomic with delayed_move: an event is either moved or cancelled, never both.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
