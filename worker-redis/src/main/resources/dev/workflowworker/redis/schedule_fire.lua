-- Fires a schedule's due occurrences and advances it in one step, for the partition's owner.
-- KEYS: lease, states, due set, partition stream, runs (id -> stream id of its last occurrence,
-- which the owner compares with the partition's committed position for the overlap policy).
-- ARGV: lease value, id, the state the owner computed from, the state after firing, the next due
-- time in ms (-1 when the schedule has no more), the latest due time among the occurrences, the
-- count of occurrences, the definition the owner computed from, then each occurrence's packed wire
-- fields ("length:field" pairs; on a partition, the one field of the compact form, see
-- compact_entry). KEYS[6]: definitions.
-- A slot without a lease (the shared stream) passes its stream as the lease key and '' as the
-- value: no lease is checked, and the compare-and-set of the state alone keeps a firing once
-- among processes racing; a leased slot's caller names its lease key, so '' never skips it.
-- Returns -1 (nothing written) unless the lease holds exactly this owner's value; 0 when the
-- state or the definition is not the one the owner computed from (a replace, a pause or another
-- firing came first: nothing is written, the owner reads again); -2 when an occurrence is not due
-- by Redis TIME (the owner's clock runs ahead: nothing fires early); 2 when the owner found no
-- state or no definition (expected state ''): the schedule is gone or half gone, and what is left
-- of it here (its place in the due set, a state without a definition) is removed, or the owner
-- would look at it again at once, forever; else 1. Occurrence ids are
-- "<id>:<scheduled ms>", so a firing repeated by a new owner is the same event again, which the
-- partition recognises.
if not (ARGV[1] == '' and KEYS[1] == KEYS[4]) and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local state = redis.call('HGET', KEYS[2], ARGV[2])
if ARGV[3] == '' then
  -- The owner found no state or no definition. A state without a definition (a field deleted by
  -- hand, a key evicted) can never fire: it goes, with its place, or the owner would look again
  -- at once, forever; a put creates definition and state together.
  local def = redis.call('HGET', KEYS[6], ARGV[2])
  if state and def then
    return 0
  end
  if state then
    redis.call('HDEL', KEYS[2], ARGV[2])
    redis.call('HDEL', KEYS[5], ARGV[2])
  end
  redis.call('ZREM', KEYS[3], ARGV[2])
  return 2
end
if (state or '') ~= ARGV[3] or (redis.call('HGET', KEYS[6], ARGV[2]) or '') ~= ARGV[8] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[6]) > now then
  return -2
end
--@include packed_fields
local count = tonumber(ARGV[7])
local last
for k = 9, 8 + count do
  local fields = unpack_fields(ARGV[k])
  last = redis.call('XADD', KEYS[4], '*', unpack(fields))
end
if last then
  redis.call('HSET', KEYS[5], ARGV[2], last)
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
if tonumber(ARGV[5]) < 0 then
  redis.call('ZREM', KEYS[3], ARGV[2])
else
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2])
end
return 1
