-- A batch's processed markers checked and its locks taken, in one step (lock_acquire.lua has the
-- lock rules). Commands go to Redis per batch where they can: one EXISTS over all markers (a
-- duplicate is rare, so only a non-zero count looks closer) and one INCRBY for the tokens.
-- KEYS[1] fencing counter, KEYS[2..n+1] lock keys, KEYS[n+2..2n+1] processed markers
-- ARGV[1] ttl (ms), ARGV[2..n+1] owners (unique per acquisition)
-- Returns per delivery: -1 completed before (no lock taken), 0 lock held elsewhere, else the
-- fencing token. A lock key listed twice is taken once: the second owner finds it held.
local n = (#KEYS - 1) / 2
local ttl = ARGV[1]

local function count_existing(from, to)
  local total = 0
  local i = from
  while i <= to do
    local j = math.min(to, i + 4000)
    total = total + redis.call('EXISTS', unpack(KEYS, i, j))
    i = j + 1
  end
  return total
end

local any_done = count_existing(n + 2, 2 * n + 1) > 0
-- Tokens are drawn for the batch up front; a contended key wastes its token, which keeps them
-- strictly increasing per key all the same (one counter for every key).
local base = redis.call('INCRBY', KEYS[1], n) - n
local out = {}
for i = 1, n do
  if any_done and redis.call('EXISTS', KEYS[n + 1 + i]) == 1 then
    out[i] = -1
  else
    local lock = KEYS[1 + i]
    local owner = ARGV[1 + i]
    local token = base + i
    if redis.call('SET', lock, owner .. '|' .. token, 'NX', 'PX', ttl) then
      out[i] = token
    else
      -- A repeat of a call whose reply was lost finds its own lock: return the token it got.
      local held = redis.call('GET', lock)
      local mine = owner .. '|'
      if held and string.sub(held, 1, #mine) == mine then
        out[i] = tonumber(string.sub(held, #mine + 1))
      else
        out[i] = 0
      end
    end
  end
end
return out
