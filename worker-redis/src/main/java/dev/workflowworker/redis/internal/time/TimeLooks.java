package dev.workflowworker.redis.internal.time;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.internal.client.CallFailed;
import dev.workflowworker.redis.internal.client.LuaScript;
import dev.workflowworker.redis.internal.client.Replies;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One look pass of the timers loop over the slots it looks at: each slot's move of its due
 * delayed events ({@code delayed_move}, one script per slot, which checks the slot's lease) and
 * the read of its earliest schedule go out in one pipeline, one per node on a cluster, every
 * node's flushed before any reply is read; then each slot's schedules that came due are fired
 * (rarely: most looks find none). One round trip per node per pass, where each slot took two,
 * one slot after the other. A node that hangs costs the pass one socket timeout and is then
 * left out until it answers (its slots fail at once, unsent); the other nodes' slots are moved
 * and fired from the same pass. See docs/ARCHITECTURE.md, "Time".
 */
final class TimeLooks {

    private static final Logger log = LoggerFactory.getLogger(TimeLooks.class);

    /** What a pass answers for a slot whose lease was found not ours: not looked at again until held anew. */
    static final long LOST = Long.MIN_VALUE;
    static final long NONE = Long.MAX_VALUE;
    /**
     * The least events one slot's move takes in a pass. A pass's moves run back to back on their
     * node, so each takes {@link TimeLoop#MOVE_BATCH} shared among the pass's slots, not less than
     * this: a slot that fills its share is looked at again at once, with fewer slots beside it.
     */
    static final int MIN_MOVE_BATCH = 50;

    private final StreamClient client;
    private final TimeKeys keys;
    private final TimeSource clock;
    private final ScheduleFiring schedules;
    /** Redis TIME minus this process's wall clock, from the last move: due times are Redis times. */
    private long skewMillis;
    /**
     * Slots whose last move may have appended events that no wake announced: its reply was lost
     * (the pass failed) or replaced by a resend's, which finds them moved already. Their next
     * answered move announces whatever it moved; a partition's reader on a cluster would
     * otherwise find those events only by its poll (within {@code NodeWaits.SWEEP_MS}, a second,
     * while its subscriptions are in place; {@code NodeWaits.POLL_MS}, 100 ms, otherwise).
     * The timers thread's only.
     */
    private final java.util.Set<Integer> unannounced = new java.util.HashSet<>();

    TimeLooks(StreamClient client, TimeKeys keys, ScheduleFiring schedules) {
        this.client = client;
        this.keys = keys;
        this.clock = client.clock();
        this.schedules = schedules;
    }

    /** What a pass found: per slot when to look again, and the slots that failed. */
    record Pass(long[] next, int failures, RuntimeException failed) {
    }

    /**
     * Looks at slots {@code slots[0..n)}, held under {@code leaseValues[0..n)}; {@return per slot
     * when to look again on {@link #monoMillis()}: at once after a full batch, {@link #NONE} when
     * nothing waits or the lease is lost, a pause after a failure}
     */
    Pass look(int[] slots, String[] leaseValues, int n, long retryMs) {
        int batch = Math.max(MIN_MOVE_BATCH, TimeLoop.MOVE_BATCH / n);
        Replies replies;
        RuntimeException all = null;
        int[] sends = {0};
        try {
            replies = send(slots, leaseValues, n, batch, sends);
        } catch (CallFailed e) {
            replies = e.replies(); // a slot's script failed (a poison entry, say): the others' replies stand
        } catch (RuntimeException e) {
            replies = null;
            all = e;
        }
        long[] next = new long[n];
        int failures = 0;
        RuntimeException first = null;
        for (int k = 0; k < n; k++) {
            if (replies == null) {
                unannounced.add(slots[k]);
                next[k] = monoMillis() + retryMs;
                failures++;
                first = first == null ? all : first;
                continue;
            }
            if (sends[0] > 1 || replies.wasResent(2 * k)) {
                unannounced.add(slots[k]);
            }
            // Delayed events and schedules apart: one failing stops not the other.
            long move;
            RuntimeException failed = null;
            try {
                move = moved(slots[k], replies.get(2 * k), batch);
            } catch (RuntimeException e) {
                unannounced.add(slots[k]);
                failed = e;
                move = monoMillis() + retryMs;
            }
            if (move == LOST) {
                next[k] = NONE; // the lease is not ours any more: the ownership rounds find out
                continue;
            }
            try {
                long fire = schedules.fireDue(slots[k], leaseValues[k], skewMillis, earliest(replies.get(2 * k + 1)));
                if (fire == ScheduleStore.LOST) {
                    next[k] = NONE;
                    continue;
                }
                if (failed == null) {
                    next[k] = Math.min(move, toMono(fire));
                    continue;
                }
            } catch (RuntimeException e) {
                failed = failed == null ? e : failed;
            }
            next[k] = monoMillis() + retryMs;
            failures++;
            first = first == null ? failed : first;
        }
        return new Pass(next, failures, first);
    }

    /** The pipeline: per slot, its move then the read of its earliest schedule, both on the slot's node. */
    private Replies send(int[] slots, String[] leaseValues, int n, int batch, int[] sends) {
        LuaScript move = client.scripts().delayedMove;
        LuaScript.NoScript answer = new LuaScript.NoScript(move, client.redis(), 2 * n);
        String compact = keys.compact() ? "1" : "";
        // Only the moves wait for the replicas: the reads of the earliest schedules beside them
        // need no acknowledgement, and a shortfall must not fail them and hold the firing up.
        return client.call("look at the due times of " + n + " slot(s)", () -> {
            sends[0]++; // the client sends the whole pass again after a broken connection
            return Topology.sendEach(client.redis(), 2 * n,
                    call -> {
                        int i = slots[call / 2];
                        if (call % 2 == 0) {
                            return answer.arguments(call, List.of(keys.lease(i), keys.delayed(i),
                                    keys.delayedEntries(i), keys.stream(i)),
                                    List.of(leaseValues[call / 2], Integer.toString(batch), compact));
                        }
                        return new CommandArguments(Protocol.Command.ZRANGE).key(keys.schedulesDue(i)).add(0).add(0)
                                .add("WITHSCORES");
                    },
                    call -> keys.stream(slots[call / 2]), (call, e) -> call % 2 == 0 && answer.resend(call, e),
                    client.waitReplicas(), call -> call % 2 == 0, client.waitMs(),
                    () -> "a look at " + n + " slot(s)", null, true, client.nodes());
        });
    }

    /**
     * Slot {@code i}'s move reply; {@return when to look again, on {@link #monoMillis()}: at once
     * when the batch was full, so the other slots get their turn in between; {@link #LOST} when
     * the lease is not ours}
     */
    private long moved(int i, Object reply, int batch) {
        List<?> r = (List<?>) reply;
        long moved = StreamEntries.number(r.get(0));
        if (moved < 0) {
            unannounced.remove(i); // the lease is not ours: the new owner reads the partition afresh
            return LOST;
        }
        if ((unannounced.remove(i) || moved > 0) && keys.leased()) {
            // A partition's reader may wait on its news channel; the shared group's readers wake on the XADD.
            client.announce(keys.stream(i));
        }
        long redisNext = StreamEntries.number(r.get(1));
        skewMillis = StreamEntries.number(r.get(2)) - clock.wallMillis();
        List<?> missing = r.size() > 3 ? (List<?>) r.get(3) : List.of();
        if (!missing.isEmpty()) {
            log.warn("{}: {} delayed event id(s) had no stored entry and were dropped: {}", keys.stream(i),
                    missing.size(), missing.stream().limit(20).map(StreamEntries::text).toList());
        }
        if (moved + missing.size() >= batch) {
            return monoMillis();
        }
        return redisNext < 0 ? NONE : toMono(redisNext);
    }

    /** {@return the score of a {@code ZRANGE 0 0 WITHSCORES} reply, in Redis time; {@link ScheduleStore#NONE} if empty} */
    static long earliest(Object reply) {
        List<?> r = (List<?>) reply;
        if (r.isEmpty()) {
            return ScheduleStore.NONE;
        }
        // RESP2: member, score; RESP3: a pair per member.
        Object score = r.get(0) instanceof List<?> pair ? pair.get(1) : r.get(1);
        return score instanceof Number x ? x.longValue() : (long) Double.parseDouble(StreamEntries.text(score));
    }

    /**
     * A Redis time as a deadline on this process's monotonic clock, through the skew just
     * measured. A millisecond late rather than early: early, the script finds nothing due yet and
     * the loop asks again at once.
     */
    private long toMono(long redisMillis) {
        if (redisMillis == ScheduleStore.NONE) {
            return NONE;
        }
        long wait = redisMillis - (clock.wallMillis() + skewMillis);
        return monoMillis() + Math.max(0, wait) + 1;
    }

    private long monoMillis() {
        return TimeUnit.NANOSECONDS.toMillis(clock.nanoTime());
    }
}
