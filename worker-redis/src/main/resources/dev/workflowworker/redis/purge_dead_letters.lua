-- Empties a dead-letter stream and says how many entries it held, in one step, so the count
-- cannot include a dead letter written between counting and emptying. The stream stays (empty):
-- a partition's dead-letter script names it, and during a slot migration Redis answers a script
-- naming an absent key TRYAGAIN (docs/ARCHITECTURE.md, "Redis Cluster").
-- KEYS[1] dead-letter stream (for a partitioned stream, one partition's; one slot per call)
-- Returns the number of entries deleted.
local n = redis.call('XLEN', KEYS[1])
redis.call('XTRIM', KEYS[1], 'MAXLEN', '0')
return n
