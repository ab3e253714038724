-- Included (--@include partition_owner) by the outcome scripts of a partition: owner(stamp) splits
-- the owner's stamp, "<lease value>#<open>", into the lease value and the open of the partition
-- (the count partition_open.lua keeps in the log's field e) that the outcome was decided under.
-- The scripts refuse an outcome of an earlier open of the same lease: its reply was lost, the owner
-- reopened the partition from what Redis held then, and it lands only now (docs/ARCHITECTURE.md,
-- "Why a stale reader cannot lose, duplicate or reorder"). A stamp of a lease value alone (the
-- scripts' own tests, the read-path benchmark) checks the lease only.
local function owner(stamp)
  local lease, opened = string.match(stamp, '^(.*|%d+)#(%d+)$')
  if lease then
    return lease, opened
  end
  return stamp, nil
end
-- owned(stamp, lease key, log key, fields): the log's fields (one HMGET) when the stamp's owner may
-- write, else false and -1 (another owner opened the partition, or the lease is not the stamp's)
-- or -2 (the partition was opened again since the stamp's open). A stamped outcome is checked
-- against the log alone: the open that the stamp names wrote its lease value (o) and number (e)
-- there, and every open of any owner counts e up and writes o, so the pair still matches exactly
-- when no process opened the partition since. Its lease may have expired or passed on meanwhile:
-- the next owner reads nothing before its open, which then sees this write (docs/ARCHITECTURE.md,
-- "Why a stale reader cannot lose, duplicate or reorder", point 1). That saves the GET of the
-- lease, a quarter of a commit's calls (docs/BENCHMARKS.md, "Few keys: fewer calls per commit").
-- A log without o (opened by an earlier version), or whose o is another owner's, falls back to the
-- lease key: the GET is paid only on a refusal.
local function owned(stamp, leaseKey, logKey, fields)
  local lease, opened = owner(stamp)
  if not opened then
    if redis.call('GET', leaseKey) ~= lease then
      return false, -1
    end
    return redis.call('HMGET', logKey, unpack(fields))
  end
  local n = #fields
  fields[n + 1] = 'e'
  fields[n + 2] = 'o'
  local log = redis.call('HMGET', logKey, unpack(fields))
  local holder = log[n + 2]
  if holder ~= lease then
    -- Another owner's open, or none (a log of an earlier version, or lost): the lease key decides.
    -- Still the stamp's lease, the log lost this owner's open (a failover without
    -- waitForReplicas keeps the lease and drops the open): opened again (-2), not lost (-1), so the
    -- owner reopens at once instead of idling its partition until the lease runs out.
    if redis.call('GET', leaseKey) ~= lease then
      return false, -1
    end
    if holder then
      return false, -2
    end
  end
  if log[n + 1] ~= opened then
    return false, -2
  end
  return log
end
