package dev.workflowworker.redis.internal.partitioned;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * While a hand-over is under way, runs the next ownership round soon rather than a regular
 * interval later: a process below its share takes a partition within a quick round of its release
 * instead of up to a whole interval after it (the partition is read by no one meanwhile), and a
 * process giving partitions up deletes their leases as soon as their running events settled.
 * Quick rounds last at most two regular intervals after the members changed (enough for every
 * owner to see the change in a regular round and give up what it must), so an owner whose running
 * events take long to settle costs no more than that. See docs/ARCHITECTURE.md, "Ordered
 * processing". Used on the ownership thread only.
 */
final class HandOverPace {

    /**
     * The interval of the quick rounds: short beside the regular round, so a partition given up is
     * taken within about this long, and long beside a round's own cost (one pipeline), so a
     * hand-over costs a few dozen rounds at most.
     */
    static final long ROUND_MILLIS = 25;

    private final ScheduledExecutorService ticker;
    private final long tickMillis;
    private final Runnable round;
    /** The live members of the last round, to see a join or a departure. */
    private List<String> lastLive = List.of();
    /** Until when the hand-over set off by the last change of members runs on quick rounds; monotonic ms. */
    private long untilMono;
    private boolean scheduled;

    HandOverPace(ScheduledExecutorService ticker, long tickMillis, Runnable round) {
        this.ticker = ticker;
        this.tickMillis = tickMillis;
        this.round = round;
    }

    /**
     * Called after each round with its live members and whether this process still has to take or
     * give up partitions; schedules one quick round when it has and the hand-over is recent.
     */
    void afterRound(List<String> live, boolean pending, long nowMono) {
        if (!live.equals(lastLive)) {
            lastLive = live;
            untilMono = nowMono + 2 * tickMillis;
        }
        if (pending && nowMono < untilMono && !scheduled) {
            scheduled = true;
            try {
                ticker.schedule(() -> {
                    scheduled = false;
                    round.run();
                }, ROUND_MILLIS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                scheduled = false;
            }
        }
    }
}
