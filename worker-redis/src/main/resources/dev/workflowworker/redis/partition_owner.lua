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
