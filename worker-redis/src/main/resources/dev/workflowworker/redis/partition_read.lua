-- No longer run by the library (the router reads with a fenced MULTI, RouterRead): kept for the
-- readpath benchmark, which measures it as the earlier read path (docs/BENCHMARKS.md).
-- Reads a partition for its owner. KEYS: stream, lease, completed (sorted set of event ids by
-- completion time; optional). ARGV: group, lease value, count, start id ('>' for new entries, an id
-- to page through the pending list), group start id.
-- Returns {entries, newest id of the stream, positions (1-based) of entries whose event_id
-- completed already}: a second entry of a completed event (a producer's retried publish, a
-- replayed dead letter) is acked by the engine as a duplicate instead of run again.
-- Refused (false) unless the lease holds exactly this owner's value: a process that lost the lease
-- must not move entries into the pending list behind the next owner's back, or the next owner,
-- which inherits that list, would run a key's later event first.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return false
end
local function read()
  return redis.pcall('XREADGROUP', 'GROUP', ARGV[1], 'owner', 'COUNT', ARGV[3], 'STREAMS', KEYS[1], ARGV[4])
end
local r = read()
if type(r) == 'table' and r.err then
  if not string.find(r.err, 'NOGROUP', 1, true) then
    return redis.error_reply(r.err)
  end
  -- Redis lost the group (restarted empty): re-create it and read again, from the start whatever
  -- the configured start id (ARGV[5], for the first creation only): entries published since the
  -- restart were never delivered, and '$' would skip them.
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
  r = read()
  if type(r) == 'table' and r.err then
    return redis.error_reply(r.err)
  end
end
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = '0-0'
if #newest > 0 then
  last = newest[1][1]
end
if not r then
  return {{}, last, {}}
end
local entries = r[1][2]
local done = {}
if KEYS[3] then
  -- One ZMSCORE for the batch: a call per entry cost more than the lookups themselves.
  local ids = {}
  local at = {}
  for i, e in ipairs(entries) do
    local fields = e[2]
    if fields then
      for j = 1, #fields, 2 do
        if fields[j] == 'event_id' then
          if fields[j + 1] ~= '' then
            ids[#ids + 1] = fields[j + 1]
            at[#ids] = i
          end
          break
        end
      end
    end
  end
  if #ids > 0 then
    local scores = redis.call('ZMSCORE', KEYS[3], unpack(ids))
    for k = 1, #ids do
      if scores[k] then
        done[#done + 1] = at[k]
      end
    end
  end
end
return {entries, last, done}
