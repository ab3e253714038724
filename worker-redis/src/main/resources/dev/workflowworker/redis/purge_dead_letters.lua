-- Deletes a dead-letter stream and says how many entries it held, in one step, so the count
-- cannot include a dead letter written between counting and deleting.
-- KEYS[1] dead-letter stream (for a partitioned stream, one partition's; one slot per call)
-- Returns the number of entries deleted.
local n = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n
