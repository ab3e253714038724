-- Reads a partition for its owner. KEYS: stream, lease. ARGV: group, lease value, count, start id
-- ('>' for new entries, an id to page through the pending list), group start id.
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
  -- Redis lost the group (restarted empty): re-create it and read again.
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[5], 'MKSTREAM')
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
  return {{}, last}
end
return {r[1][2], last}
