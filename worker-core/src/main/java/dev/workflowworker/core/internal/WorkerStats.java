package dev.workflowworker.core.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and health signals of one worker. Every increment is mirrored into the service's
 * totals, so counts survive the replacement of a worker.
 */
public final class WorkerStats {

    private final WorkerStats parent;
    private final LongAdder processed = new LongAdder();
    private final LongAdder succeeded = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private final LongAdder deadLettered = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder contended = new LongAdder();
    private final LongAdder leaseLost = new LongAdder();
    private final AtomicInteger active = new AtomicInteger();

    volatile long heartbeatMillis;
    volatile long lastInfraErrorMillis = Long.MIN_VALUE;
    volatile String lastInfraError;
    volatile String lastError;
    volatile long saturatedSinceMillis = -1;
    /** Since when reads have failed without a success in between, or -1 while the transport answers. */
    volatile long transportDownSinceMillis = -1;

    // Failure-ratio window: counts at the previous two health ticks.
    private long tickProcessed;
    private long tickFailed;
    private long prevTickProcessed;
    private long prevTickFailed;

    /** @param parent the service totals, or null for the totals themselves */
    public WorkerStats(WorkerStats parent) {
        this.parent = parent;
    }

    public void succeeded() {
        processed.increment();
        succeeded.increment();
        if (parent != null) {
            parent.succeeded();
        }
    }

    public void failed(String message) {
        processed.increment();
        failed.increment();
        lastError = message;
        if (parent != null) {
            parent.failed(message);
        }
    }

    public void retried() {
        retried.increment();
        if (parent != null) {
            parent.retried();
        }
    }

    public void deadLettered() {
        deadLettered.increment();
        if (parent != null) {
            parent.deadLettered();
        }
    }

    public void duplicate() {
        duplicates.increment();
        if (parent != null) {
            parent.duplicate();
        }
    }

    public void contended() {
        contended.increment();
        if (parent != null) {
            parent.contended();
        }
    }

    public void leaseLost() {
        leaseLost.increment();
        if (parent != null) {
            parent.leaseLost();
        }
    }

    /** @param nowMillis clock time @param limit the concurrency limit */
    public void activated(long nowMillis, int limit) {
        activated(nowMillis, limit, 1);
    }

    /**
     * {@code n} slots taken at once: one update of the shared counters for a batch, where one per
     * slot bounced their cache lines between the threads that take and free slots.
     *
     * @param nowMillis clock time @param limit the concurrency limit @param n how many
     */
    public void activated(long nowMillis, int limit, int n) {
        if (active.addAndGet(n) >= limit && saturatedSinceMillis < 0) {
            saturatedSinceMillis = nowMillis;
        }
        if (parent != null) {
            parent.active.addAndGet(n);
        }
    }

    /** @param limit the concurrency limit */
    public void deactivated(int limit) {
        deactivated(limit, 1);
    }

    /** {@code n} slots freed at once; see {@link #activated(long, int, int)}. @param limit the concurrency limit @param n how many */
    public void deactivated(int limit, int n) {
        if (active.addAndGet(-n) < limit) {
            saturatedSinceMillis = -1;
        }
        if (parent != null) {
            parent.active.addAndGet(-n);
        }
    }

    /** @param nowMillis clock time @param message what failed */
    public void infraError(long nowMillis, String message) {
        lastInfraErrorMillis = nowMillis;
        lastInfraError = message;
    }

    /** @param nowMillis clock time of a failed read */
    public void transportDown(long nowMillis) {
        if (transportDownSinceMillis < 0) {
            transportDownSinceMillis = nowMillis;
        }
    }

    /** Records a successful read. */
    public void transportUp() {
        if (transportDownSinceMillis >= 0) {
            transportDownSinceMillis = -1;
        }
    }

    /** @param nowMillis clock time */
    public void heartbeat(long nowMillis) {
        heartbeatMillis = nowMillis;
    }

    /** Rolls the failure-ratio window; called once per health-check interval. */
    public synchronized void tick() {
        prevTickProcessed = tickProcessed;
        prevTickFailed = tickFailed;
        tickProcessed = processed.sum();
        tickFailed = failed.sum();
    }

    /** @return attempts that ran to an outcome since the tick before last */
    public synchronized long windowProcessed() {
        return processed.sum() - prevTickProcessed;
    }

    /** @return failed attempts since the tick before last */
    public synchronized long windowFailed() {
        return failed.sum() - prevTickFailed;
    }

    public long processed() { return processed.sum(); }

    public long succeededCount() { return succeeded.sum(); }

    public long failedCount() { return failed.sum(); }

    public long retriedCount() { return retried.sum(); }

    public long deadLetteredCount() { return deadLettered.sum(); }

    public long duplicateCount() { return duplicates.sum(); }

    public long contendedCount() { return contended.sum(); }

    public long leaseLostCount() { return leaseLost.sum(); }

    public int active() { return active.get(); }

    public long heartbeatMillis() { return heartbeatMillis; }

    public long lastInfraErrorMillis() { return lastInfraErrorMillis; }

    public String lastInfraError() { return lastInfraError; }

    public String lastError() { return lastError; }

    public long saturatedSinceMillis() { return saturatedSinceMillis; }

    /** @return since when reads have failed without a success in between, or -1 */
    public long transportDownSinceMillis() { return transportDownSinceMillis; }
}
