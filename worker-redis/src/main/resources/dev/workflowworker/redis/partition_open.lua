-- Opens a partition for its new owner: the committed position, the ids settled above it, the held
-- retries and the recent completions' event ids, read after the lease was taken so that every write
-- of an earlier owner that Redis accepted is in them. See docs/ARCHITECTURE.md, "Ordered
-- processing". KEYS: lease, log, settled, held, recent, dead letters; then, only when asked again
-- after answering 0, the stream and completed (the sorted set of completed event ids of earlier
-- versions). ARGV: lease value, group, recent cap. Returns false unless the lease holds exactly this
-- owner's value; 0 (nothing written) when the log has no position and the stream and completed were
-- not named; else {committed id, committed count, settled ids, held (flat id/mark pairs), recent
-- (packed strings), this open's number}. The number (the log's field e, counted up by every open,
-- with the opener's lease value in o) goes with each outcome of the owner in its stamp
-- (partition_owner.lua), so an outcome decided under an earlier open and landing after this one
-- changes nothing: what this open read is all that counts.
-- Only a log lost while its stream lives on needs the stream and completed (partition_init_body):
-- named in every open, completed (absent but on a stream of earlier versions) and the stream (absent
-- until the first publish) made every open during a migration of the partition's slot wait it out,
-- as Redis answers a script naming a key it does not hold TRYAGAIN there (docs/ARCHITECTURE.md,
-- "Redis Cluster").
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
--@include stream_ids
if not redis.call('HGET', KEYS[2], 'c') then
  if not KEYS[8] then
    return 0
  end
  local stream, logKey, settledKey, recentKey, completedKey = KEYS[7], KEYS[2], KEYS[3], KEYS[5], KEYS[8]
  local group, startId, cap = ARGV[2], '0', ARGV[3]
--@include partition_init_body
end
local c = redis.call('HGET', KEYS[2], 'c')
local settled = redis.call('SMEMBERS', KEYS[3])
local kept = {}
for _, id in ipairs(settled) do
  if id == '0-0' then
    -- the placeholder, below
  elseif not less(c, id) then
    -- left by a commit that raced a later one; the position covers it
    redis.call('SREM', KEYS[3], id)
  else
    kept[#kept + 1] = id
  end
end
-- held marks of entries settled since (a hold whose entry was then settled with attempt 1, or a
-- hold landing after a reopen's snapshot) would count as retries for good
local settledNow = {}
for _, id in ipairs(kept) do
  settledNow[id] = true
end
local held = redis.call('HGETALL', KEYS[4])
local heldKept = {}
for k = 1, #held, 2 do
  if held[k] == '0-0' then
    -- the placeholder, below
  elseif not less(c, held[k]) or settledNow[held[k]] then
    redis.call('HDEL', KEYS[4], held[k])
  else
    heldKept[#heldKept + 1] = held[k]
    heldKept[#heldKept + 1] = held[k + 1]
  end
end
-- A log lost while its stream lives on counts its opens again from the server's clock in
-- microseconds, above every number an earlier log handed out (as fence.lua does for tokens): from 1,
-- an outcome stamped with an open of the lost log could match the new one's.
if redis.call('HEXISTS', KEYS[2], 'e') == 0 then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[2], 'e', t[1] .. string.format('%06d', tonumber(t[2])))
end
local opened = redis.call('HINCRBY', KEYS[2], 'e', 1)
-- the opener's lease value beside its number: the outcome scripts check both in the HMGET they make
-- anyway, instead of a GET of the lease (partition_owner.lua)
redis.call('HSET', KEYS[2], 'o', ARGV[1])
-- Every key an outcome script names exists from here on, and no script empties it: settled and
-- held keep a placeholder '0-0' (an id no entry has, at or below every position), recent a commit
-- of no ids, the dead letters are an empty stream. While the partition's slot migrates, Redis
-- answers a script naming a key it does not hold TRYAGAIN until the migration ends, and refuses a
-- write creating a key on the old node (docs/ARCHITECTURE.md, "Redis Cluster").
redis.call('SADD', KEYS[3], '0-0')
if not redis.call('HGET', KEYS[4], '0-0') then
  redis.call('HSET', KEYS[4], '0-0', '0:0')
end
if redis.call('EXISTS', KEYS[5]) == 0 then
  redis.call('RPUSH', KEYS[5], '0|')
end
if KEYS[6] and redis.call('EXISTS', KEYS[6]) == 0 then
  -- an empty stream: one entry trimmed away as it is added, with commands a consumer's ACL
  -- grants already (xadd; not xgroup or hsetnx); its id 0-1 is below any dead letter's
  redis.call('XADD', KEYS[6], 'MAXLEN', '0', '0-1', 'placeholder', '')
end
return {c, tonumber(redis.call('HGET', KEYS[2], 'n')) or 0, kept, heldKept,
  redis.call('LRANGE', KEYS[5], 0, -1), opened}
