package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.Cadence;
import dev.workflowworker.core.TimeSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * Crash recovery from one worker's side (docs/ARCHITECTURE.md, promise 4): it keeps its own
 * in-flight entries fresh every third of {@code claimIdle}, so nobody takes them while it works,
 * and every half of {@code claimIdle} takes over entries another consumer left idle for longer.
 */
final class Upkeep {

    private static final Logger log = LoggerFactory.getLogger(Upkeep.class);

    private final String workerId;
    private final EventTransport.Consumer consumer;
    private final Slots slots;
    private final Dispatcher dispatcher;
    private final Settlement settlement;
    private final Duration claimIdle;
    private final int batchSize;
    private final Cadence keepAlive;
    private final Cadence reclaim;
    private final WorkerStats stats;

    Upkeep(String workerId, EventTransport.Consumer consumer, Slots slots, Dispatcher dispatcher,
           Settlement settlement, WorkerStats stats, TimeSource time, Duration claimIdle, int batchSize) {
        this.workerId = workerId;
        this.stats = stats;
        this.consumer = consumer;
        this.slots = slots;
        this.dispatcher = dispatcher;
        this.settlement = settlement;
        this.claimIdle = claimIdle;
        this.batchSize = batchSize;
        this.keepAlive = new Cadence(time, claimIdle.dividedBy(3), claimIdle.dividedBy(3));
        this.reclaim = new Cadence(time, claimIdle.dividedBy(2), claimIdle.dividedBy(2));
    }

    /** Runs on the loop thread; never throws. */
    void run() {
        try {
            if (keepAlive.tryFire() && !slots.isEmpty()) {
                consumer.keepAlive(slots.deliveries());
                stats.transportUp();
            }
            if (reclaim.tryFire()) {
                reclaim();
                stats.transportUp();
            }
        } catch (RuntimeException ex) {
            settlement.infraError("stalled-work maintenance failed", ex);
        }
    }

    private void reclaim() {
        int want = Math.min(slots.available(), batchSize);
        if (want <= 0 || !slots.acquire(want)) {
            return;
        }
        List<Delivery> taken;
        try {
            taken = consumer.reclaimStalled(claimIdle, want);
        } catch (RuntimeException ex) {
            slots.release(want);
            throw ex;
        }
        if (!taken.isEmpty()) {
            log.info("worker {} reclaimed {} stalled entries", workerId, taken.size());
        }
        dispatcher.dispatch(taken, want);
    }
}
