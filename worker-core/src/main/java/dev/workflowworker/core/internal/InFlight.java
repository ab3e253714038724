package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.Lock;

/** One delivery from the moment it is taken until its handler slot is freed. */
final class InFlight {
    final Delivery delivery;
    /** The handler thread, for interrupting at an abandoned shutdown; null when none runs. */
    volatile Thread thread;
    /**
     * Set before its success goes to the settler: from then on its commit, queued or on the wire,
     * settles it, and a drain that gives up must not hand it back (docs/ARCHITECTURE.md, "The engine").
     */
    volatile boolean succeeded;
    Lock lock;
    /** {@code TimeSource#nanoTime()} just before the lock was asked for. */
    long acquireSentAtNanos;
    DefaultEventContext context;
    LockWatchdog.Watch watch;
    /** Set when the success is queued for the group commit. */
    int attempt;
    long elapsedNanos;
    /** When the success was queued, on the engine's monotonic clock: the linger counts from the oldest. */
    long queuedAtNanos;
    /** The cohort whose last handler commits this success; null when loose. Set before its handler starts. */
    CommitQueue.Cohort cohort;

    InFlight(Delivery delivery) {
        this.delivery = delivery;
    }

    InFlight(Delivery delivery, Lock lock, long acquireSentAtNanos) {
        this.delivery = delivery;
        this.lock = lock;
        this.acquireSentAtNanos = acquireSentAtNanos;
    }
}
