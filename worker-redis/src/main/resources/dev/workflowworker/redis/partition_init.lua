-- Gives a partition its first committed position at start-up, before any owner opens it, so the
-- configured start id ('$': entries from now on) means the moment the stream's layout was set up,
-- as a consumer group's creation did. Nothing happens when the partition has a position already.
-- A stream of the consumer-group layout of earlier versions is carried over (partition_init_body).
-- KEYS: stream, log, settled, recent, completed. ARGV: group, start id, recent cap.
local stream, logKey, settledKey, recentKey, completedKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local group, startId, cap = ARGV[1], ARGV[2], ARGV[3]
--@include stream_ids
--@include partition_init_body
return 1
