-- Settles a batch of one partition's entries for its owner. KEYS: lease, log, settled, held, recent.
-- ARGV: the owner's stamp (partition_owner.lua), new committed id ('' to keep it), the committed
-- count at that id, recent cap (event ids), packed event ids of the batch's completions ('' for
-- none; "k|" then each id as "length:id", so an id may hold any byte), then three counted lists:
-- ids settled above the position (SADD), ids the position now covers (SREM), held marks to drop
-- (HDEL).
-- -1 (nothing written) when another owner opened the partition since (or, for a stamp of a lease
-- value alone, unless the lease holds exactly it): a stale owner changes nothing; -2 (nothing
-- written) when the partition was opened again since the stamp's open. The position only moves
-- forward, with its count, so commits of one owner may land in either order; one sent twice pushes
-- its event ids to recent twice, which only repeats them.
-- Its cost is mostly the calls into Redis, so a commit makes three (HMGET, RPUSH, HSET; the owner
-- check is in the HMGET, see partition_owner.lua), the window of recent ids is trimmed in bulk,
-- and every list goes in one call per 4,000 ids (docs/BENCHMARKS.md, "Ordered processing with few
-- keys").
--@include partition_owner
local log, refused = owned(ARGV[1], KEYS[1], KEYS[2], {'c', 'rn'})
if not log then
  return refused
end
--@include stream_ids
local c = log[1] or nil
local changed = {}
if ARGV[2] ~= '' and (not c or less(c, ARGV[2])) then
  c = ARGV[2]
  changed = {'c', c, 'n', ARGV[3]}
end
-- one call per 4,000 of the ids ARGV[from..to]
local function each(op, key, from, to)
  while from <= to do
    local upto = math.min(to, from + 3999)
    redis.call(op, key, unpack(ARGV, from, upto))
    from = upto + 1
  end
end
-- Only ids above the position go into settled: a commit landing after a later one must not put
-- back ids that one moved the position over.
local i = 6
local last = i + tonumber(ARGV[i])
if last > i then
  local above = {}
  for k = i + 1, last do
    if not c or less(c, ARGV[k]) then
      above[#above + 1] = ARGV[k]
    end
  end
  for at = 1, #above, 4000 do
    redis.call('SADD', KEYS[3], unpack(above, at, math.min(#above, at + 3999)))
  end
end
i = last + 1
last = i + tonumber(ARGV[i])
each('SREM', KEYS[3], i + 1, last)
i = last + 1
last = i + tonumber(ARGV[i])
each('HDEL', KEYS[4], i + 1, last)
if ARGV[5] ~= '' then
  -- rn counts the ids in recent. Past the cap by a sixteenth, the oldest commits go while the
  -- ids left still reach the cap, so the window a new owner reads back holds at least the cap:
  -- one LTRIM every thousand or so ids rather than an LPOP in every commit. The head is read in
  -- growing steps until the cut is found: a commit of many keys holds hundreds of ids, so reading
  -- the whole excess in elements (as each holds an id or more) read a thousand such commits to
  -- drop a few, the costliest call of a long-running partition (docs/BENCHMARKS.md, "JVM CPU once
  -- compiled").
  local total = (tonumber(log[2]) or 0) + tonumber(string.match(ARGV[5], '^%d+'))
  redis.call('RPUSH', KEYS[5], ARGV[5])
  local cap = tonumber(ARGV[4])
  if total > cap + math.floor(cap / 16) then
    local limit = total - cap
    local cut, step, found, ended = 0, 16, false, false
    while not found and not ended and cut < limit do
      local want = math.min(limit - cut, step)
      local head = redis.call('LRANGE', KEYS[5], cut, cut + want - 1)
      ended = #head < want
      for j = 1, #head do
        local n = tonumber(string.match(head[j], '^%d+'))
        if total - n < cap then
          found = true
          break
        end
        cut = cut + 1
        total = total - n
      end
      step = step * 2
    end
    if not found and (total > cap or cut >= redis.call('LLEN', KEYS[5])) then
      -- rn said more than the list held (written by something else): start counting again
      -- from this commit's ids, which stay (the last element: the list is never emptied, see
      -- partition_open.lua; a count off by exactly the cap cuts every element, this one too)
      redis.call('LTRIM', KEYS[5], -1, -1)
      total = tonumber(string.match(ARGV[5], '^%d+'))
    else
      redis.call('LTRIM', KEYS[5], cut, -1)
    end
  end
  changed[#changed + 1] = 'rn'
  changed[#changed + 1] = total
end
if #changed > 0 then
  redis.call('HSET', KEYS[2], unpack(changed))
end
return 1
