-- Included (--@include partition_init_body) where a partition's log may need its first position:
-- at start-up with the configured start id (partition_init.lua), and when an owner opens a partition
-- whose log is gone while its stream lives on, from the start (partition_open.lua): entries written
-- meanwhile were never settled, and the recent completions keep those that were from running again.
-- Expects locals stream, logKey, settledKey, recentKey, completedKey, group, startId, cap, and the
-- stream_ids include. Leaves the committed position in c.
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
    local page = redis.call('XRANGE', stream, start, to, 'COUNT', 1000)
    n = n + #page
    if #page < 1000 then
      return n, page
    end
    start = '(' .. page[#page][1]
  end
end

local c = redis.call('HGET', logKey, 'c')
if not c then
  -- No position yet. A stream consumed in the consumer-group layout of earlier
  -- versions is carried over: settled is what its group acked, so nothing that completed runs again.
  local exists = redis.call('EXISTS', stream) == 1
  local added = 0
  local found = nil
  if exists then
    local s = info(redis.call('XINFO', 'STREAM', stream))
    added = tonumber(s['entries-added']) or 0
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
      local gi = info(g)
      if gi['name'] == group then
        found = gi
      end
    end
    if found then
      local last = found['last-delivered-id']
      local pending = redis.call('XPENDING', stream, group)
      local pendingIds = {}
      if pending[1] > 0 then
        c = before(pending[2])
        local start = '-'
        while true do
          local page = redis.call('XPENDING', stream, group, start, '+', 1000)
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
          local page = redis.call('XRANGE', stream, from, last, 'COUNT', 1000)
          for _, e in ipairs(page) do
            if not pendingIds[e[1]] then
              redis.call('SADD', settledKey, e[1])
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
      -- carried over once: a log lost later must not be carried over again from the group's old state
      redis.call('XGROUP', 'DESTROY', stream, group)
    elseif startId == '$' then
      c = s['last-generated-id']
    end
  end
  c = c or '0-0'
  -- committed count: every entry ever added minus those above c
  local above = 0
  if exists then
    above = countAbove(c, '+')
  end
  redis.call('HSET', logKey, 'c', c, 'n', math.max(0, added - above))
  -- the completions earlier versions remembered, newest first, become the first recent ones
  local ids = redis.call('ZREVRANGE', completedKey, 0, tonumber(cap) - 1)
  if #ids > 0 then
    local parts = {}
    for k = #ids, 1, -1 do
      parts[#parts + 1] = string.len(ids[k]) .. ':' .. ids[k]
    end
    redis.call('RPUSH', recentKey, #ids .. '|' .. table.concat(parts))
    redis.call('HSET', logKey, 'rn', #ids)
  end
end
