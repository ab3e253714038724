package dev.workflowworker.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A timing gate on a {@link TimeSource}: {@link #tryFire()} answers true at most once per period,
 * to one caller among any that race for it. The engine and transports use it for chores that
 * piggyback on a loop they already run (keeping in-flight work fresh, moving due retries,
 * trimming) instead of a timer thread of their own. Thread-safe.
 */
public final class Cadence {

    private final TimeSource time;
    private final long periodNanos;
    private final AtomicLong nextNanos;

    /**
     * Creates a cadence whose first firing is set apart from the period, so that a chore can run on
     * the first loop or be held back until the loop has settled.
     *
     * @param time the time source
     * @param period the least time between two firings
     * @param first how long from now until the first firing may happen
     */
    public Cadence(TimeSource time, Duration period, Duration first) {
        this.time = time;
        this.periodNanos = period.toNanos();
        this.nextNanos = new AtomicLong(time.nanoTime() + first.toNanos());
    }

    /** {@return true if the period has passed since the last firing; the caller then does the chore} */
    public boolean tryFire() {
        long now = time.nanoTime();
        long next = nextNanos.get();
        return now - next >= 0 && nextNanos.compareAndSet(next, now + periodNanos);
    }

    /** Lets the next {@link #tryFire()} fire at once. */
    public void fireNext() {
        nextNanos.set(time.nanoTime());
    }
}
