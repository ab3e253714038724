-- A schedule leaving a partition (its execution id changed). KEYS: definitions, states, due set,
-- runs. ARGV[1]: id, ARGV[2]: 'leave' or 'clear'.
-- 'leave' stops it firing here and marks its state "moving|<state>", keeping definition and
-- state: whoever finishes the move (this caller, or another process after this one failed)
-- carries exactly these, and the owner's compare-and-set of the old state fails from now on.
-- It keeps its place in the due set: a caller that fails after the mark (Redis away, the process
-- gone) leaves the owner to find the marked copy when it comes due and settle it (finish the move,
-- unmark the live copy, or clear a stray); out of the set, nothing would look at it again.
-- Repeating it changes nothing. 'clear' removes the copy once the move is finished, only if it is
-- still the marked one (a later move back here leaves a live copy).
-- Returns {definition, state without the mark}, or false when the schedule is not here (its due
-- entry, if any, goes).
local def = redis.call('HGET', KEYS[1], ARGV[1])
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not def or not state then
  -- Due with nothing behind it (no definition or state here): it could never fire, and left in
  -- the due set its past score would be every look's next due time, a look again at once.
  redis.call('ZREM', KEYS[3], ARGV[1])
  return false
end
local marked = string.sub(state, 1, 7) == 'moving|'
if ARGV[2] == 'leave' then
  if marked then
    state = string.sub(state, 8)
  else
    redis.call('HSET', KEYS[2], ARGV[1], 'moving|' .. state)
  end
  return {def, state}
end
if marked then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  state = string.sub(state, 8)
end
return {def, state}
