package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.TimeSource;
import org.slf4j.MDC;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A worker's loop thread: takes free handler slots, reads up to that many deliveries and hands
 * them to the {@link Dispatcher}; runs the {@link Upkeep}; backs off while the transport is
 * unreachable. Its heartbeat is what the health monitor watches.
 */
final class PollLoop implements Runnable {

    private static final long MAX_BACKOFF_MS = 5000;
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final String workerId;
    private final EventTransport.Consumer consumer;
    private final Slots slots;
    private final ReadGate gate;
    private final Dispatcher dispatcher;
    private final Upkeep upkeep;
    private final Settlement settlement;
    private final WorkerStats stats;
    private final TimeSource time;
    private final Duration pollInterval;
    private final int batchSize;
    private final int minBatch;
    private final Consumer<Throwable> crash;
    private final AtomicInteger refilling = new AtomicInteger();

    PollLoop(String workerId, EventTransport.Consumer consumer, Slots slots, ReadGate gate, Dispatcher dispatcher,
             Upkeep upkeep, Settlement settlement, WorkerStats stats, TimeSource time, Duration pollInterval,
             int batchSize, Consumer<Throwable> crash) {
        this.workerId = workerId;
        this.consumer = consumer;
        this.slots = slots;
        this.gate = gate;
        this.dispatcher = dispatcher;
        this.upkeep = upkeep;
        this.settlement = settlement;
        this.stats = stats;
        this.time = time;
        this.pollInterval = pollInterval;
        this.batchSize = batchSize;
        this.minBatch = Math.max(1, Math.min(batchSize, slots.limit() / 4));
        this.crash = crash;
    }

    @Override
    public void run() {
        MDC.put(Mdc.WORKER_ID, workerId);
        long backoffMs = 0;
        try {
            while (!gate.isClosed()) {
                stats.heartbeat(time.wallMillis());
                upkeep.run();
                if (gate.isPaused()) {
                    gate.awaitResume(pollInterval.toMillis());
                    continue;
                }
                int granted = takeSlots();
                if (granted == 0) {
                    continue;
                }
                List<Delivery> batch;
                try {
                    batch = consumer.read(granted, pollInterval);
                    backoffMs = 0;
                    stats.transportUp();
                } catch (RuntimeException ex) {
                    slots.release(granted);
                    stats.transportDown(time.wallMillis());
                    settlement.infraError("poll failed", ex);
                    backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, backoffMs * 2));
                    backOff(backoffMs);
                    continue;
                }
                dispatcher.dispatch(batch, granted);
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } catch (OutOfMemoryError | RuntimeException | LinkageError | AssertionError | StackOverflowError t) {
            crash.accept(t);
        } finally {
            MDC.remove(Mdc.WORKER_ID);
        }
    }

    /**
     * On a handler's thread that just committed a batch (docs/ARCHITECTURE.md, "The engine"):
     * reads, without waiting, what is ready now (the keys' next events that commit freed) into the
     * free slots and starts their handlers, as the loop would have after a wake-up. The loop goes
     * on as before; a read that fails is left to it (it reads again and reports). After a cohort's
     * commit what it starts is a cohort too ({@link Settler#started}).
     *
     * <p>While it runs, {@link #refilling()} is true: the deliveries it read hold no slot until
     * dispatched, so a drain that looked only at the loop and the slots could close the transport
     * under them. It is set before the gate is read, so a drain that saw it clear after the gate
     * closed knows no read starts. What dispatch throws crashes the worker, as on the loop's
     * thread: a handler thread's pool would only log it, and the batch would be stranded.
     */
    void refill(boolean afterCohort) {
        refilling.incrementAndGet();
        try {
            if (!gate.isOpen()) {
                return;
            }
            int granted = slots.tryAcquireUpTo(batchSize);
            if (granted == 0) {
                return;
            }
            List<Delivery> batch;
            try {
                batch = consumer.read(granted, Duration.ZERO);
            } catch (InterruptedException ie) {
                slots.release(granted);
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException ex) {
                slots.release(granted);
                return;
            }
            dispatcher.dispatch(batch, granted, afterCohort);
        } catch (OutOfMemoryError | RuntimeException | LinkageError | AssertionError | StackOverflowError t) {
            crash.accept(t);
        } finally {
            refilling.decrementAndGet();
            if (!gate.isOpen()) {
                // A drain may be waiting for this read to end; with the gate still open, none began yet.
                slots.wake();
            }
        }
    }

    /** {@return true while a handler's thread runs {@link #refill}} */
    boolean refilling() {
        return refilling.get() > 0;
    }

    /** @return slots taken for one read, or 0 when none freed up within a poll interval */
    private int takeSlots() throws InterruptedException {
        if (!slots.acquire(pollInterval.toMillis())) {
            return 0;
        }
        int granted = 1 + slots.tryAcquireUpTo(batchSize - 1);
        // Saturated, a slot frees one at a time and every read would fetch one event, paying a
        // round trip per event for the read, the locks and the markers. Lingering a moment for a
        // quarter of the slots trades that for batches; when idle all slots are free and nothing waits.
        long lingerEnd = time.nanoTime() + LINGER_NANOS;
        while (granted < minBatch) {
            long left = lingerEnd - time.nanoTime();
            if (left <= 0 || !slots.tryAcquireNanos(Math.min(left, LINGER_NANOS))) {
                break;
            }
            granted++;
        }
        return granted;
    }

    /** Waits in slices no longer than a poll interval, so the heartbeat stays fresh while the transport is down. */
    private void backOff(long ms) throws InterruptedException {
        long end = time.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        long slice = Math.max(1, Math.min(ms, pollInterval.toMillis()));
        while (!gate.isClosed()) {
            long left = TimeUnit.NANOSECONDS.toMillis(end - time.nanoTime());
            if (left <= 0) {
                return;
            }
            gate.sleep(Math.min(slice, left));
            stats.heartbeat(time.wallMillis());
        }
    }
}
