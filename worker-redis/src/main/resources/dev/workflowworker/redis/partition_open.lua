-- Opens a partition for its new owner: the committed position, the ids settled above it, the held
-- retries and the recent completions' event ids, read after the lease was taken so that every
-- write of an earlier owner that Redis accepted is in them. See docs/ARCHITECTURE.md, "Ordered
-- processing". KEYS: stream, lease, log, settled, held, recent, completed (the sorted set of
-- completed event ids of earlier versions). ARGV: lease value, group, group start id, recent cap.
-- Returns false unless the lease holds exactly this owner's value; else
-- {committed id, committed count, settled ids, held (flat id/mark pairs), recent (packed strings)}.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return false
end
--@include stream_ids
local function before(id)
  local ms, seq = parse(id)
  if seq > 0 then
    return string.format('%d-%d', ms, seq - 1)
  end
  if ms == 0 then
    return '0-0'
  end
  return string.format('%d', ms - 1) .. '-18446744073709551615'
end
local function info(reply)
  local out = {}
  for j = 1, #reply, 2 do
    out[reply[j]] = reply[j + 1]
  end
  return out
end
-- entries with ids in (from, to], counted a thousand at a time
local function countAbove(from, to)
  local n = 0
  local start = '(' .. from
  while true do
    local page = redis.call('XRANGE', KEYS[1], start, to, 'COUNT', 1000)
    n = n + #page
    if #page < 1000 then
      return n, page
    end
    start = '(' .. page[#page][1]
  end
end

local c = redis.call('HGET', KEYS[3], 'c')
if not c then
  -- First open under this layout. A stream consumed in the consumer-group layout of earlier
  -- versions is carried over: settled is what its group acked, so nothing that completed runs again.
  local exists = redis.call('EXISTS', KEYS[1]) == 1
  local added = 0
  local group = nil
  if exists then
    local s = info(redis.call('XINFO', 'STREAM', KEYS[1]))
    added = tonumber(s['entries-added']) or 0
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
      local gi = info(g)
      if gi['name'] == ARGV[2] then
        group = gi
      end
    end
    if group then
      local last = group['last-delivered-id']
      local pending = redis.call('XPENDING', KEYS[1], ARGV[2])
      local pendingIds = {}
      if pending[1] > 0 then
        c = before(pending[2])
        local start = '-'
        while true do
          local page = redis.call('XPENDING', KEYS[1], ARGV[2], start, '+', 1000)
          for _, p in ipairs(page) do
            pendingIds[p[1]] = true
          end
          if #page < 1000 then
            break
          end
          start = '(' .. page[#page][1]
        end
        -- acked out of order above c: settled
        local from = '(' .. c
        while true do
          local page = redis.call('XRANGE', KEYS[1], from, last, 'COUNT', 1000)
          for _, e in ipairs(page) do
            if not pendingIds[e[1]] then
              redis.call('SADD', KEYS[4], e[1])
            end
          end
          if #page < 1000 then
            break
          end
          from = '(' .. page[#page][1]
        end
      else
        c = last
      end
    elseif ARGV[3] == '$' then
      c = s['last-generated-id']
    end
  end
  c = c or '0-0'
  -- committed count: every entry ever added minus those above c
  local above = 0
  if exists then
    above = countAbove(c, '+')
  end
  redis.call('HSET', KEYS[3], 'c', c, 'n', math.max(0, added - above))
  -- the completions earlier versions remembered, newest first, become the first recent ones
  local ids = redis.call('ZREVRANGE', KEYS[7], 0, tonumber(ARGV[4]) - 1)
  if #ids > 0 then
    local parts = {}
    for k = #ids, 1, -1 do
      parts[#parts + 1] = string.len(ids[k]) .. ':' .. ids[k]
    end
    redis.call('RPUSH', KEYS[6], #ids .. '|' .. table.concat(parts))
    redis.call('HSET', KEYS[3], 'rn', #ids)
  end
end
local settled = redis.call('SMEMBERS', KEYS[4])
local kept = {}
for _, id in ipairs(settled) do
  if not less(c, id) then
    -- left by a commit that raced a later one; the position covers it
    redis.call('SREM', KEYS[4], id)
  else
    kept[#kept + 1] = id
  end
end
return {c, tonumber(redis.call('HGET', KEYS[3], 'n')) or 0, kept, redis.call('HGETALL', KEYS[5]),
  redis.call('LRANGE', KEYS[6], 0, -1)}
