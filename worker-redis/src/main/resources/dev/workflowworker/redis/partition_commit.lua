-- Settles a batch of one partition's entries for its owner. KEYS: lease, log, settled, held, recent.
-- ARGV: lease value, new committed id ('' to keep it), the committed count at that id, recent cap
-- (event ids), packed event ids of the batch's completions ('' for none; "k|" then each id as
-- "length:id", so an id may hold any byte), then
-- three counted lists: ids settled above the position (SADD), ids the position now covers (SREM),
-- held marks to drop (HDEL).
-- -1 (nothing written) unless the lease holds exactly this owner's value: a stale owner changes
-- nothing. The position only moves forward, with its count, so commits of one owner may land in
-- either order; one sent twice pushes its event ids to recent twice, which only repeats them.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
--@include stream_ids
local c = redis.call('HGET', KEYS[2], 'c')
if ARGV[2] ~= '' and (not c or less(c, ARGV[2])) then
  c = ARGV[2]
  redis.call('HSET', KEYS[2], 'c', c, 'n', ARGV[3])
end
-- Only ids above the position go into settled: a commit landing after a later one must not put
-- back ids that one moved the position over.
local i = 6
local last = i + tonumber(ARGV[i])
for k = i + 1, last do
  if not c or less(c, ARGV[k]) then
    redis.call('SADD', KEYS[3], ARGV[k])
  end
end
i = last + 1
for _, op in ipairs({{'SREM', KEYS[3]}, {'HDEL', KEYS[4]}}) do
  last = i + tonumber(ARGV[i])
  local at = i + 1
  while at <= last do
    local upto = math.min(last, at + 3999)
    redis.call(op[1], op[2], unpack(ARGV, at, upto))
    at = upto + 1
  end
  i = last + 1
end
if ARGV[5] ~= '' then
  local bar = string.find(ARGV[5], '|', 1, true)
  redis.call('RPUSH', KEYS[5], ARGV[5])
  local total = redis.call('HINCRBY', KEYS[2], 'rn', tonumber(string.sub(ARGV[5], 1, bar - 1)))
  local cap = tonumber(ARGV[4])
  while total > cap do
    local head = redis.call('LPOP', KEYS[5])
    if not head then
      redis.call('HSET', KEYS[2], 'rn', 0)
      break
    end
    local hb = string.find(head, '|', 1, true)
    total = redis.call('HINCRBY', KEYS[2], 'rn', -tonumber(string.sub(head, 1, hb - 1)))
  end
end
return 1
