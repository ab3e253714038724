package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * A worker's handler slots: {@code concurrencyLimit} permits, the deliveries holding them, and
 * a wait for all of them to be given back at shutdown.
 */
final class Slots {

    private final int limit;
    private final Semaphore permits;
    /**
     * The deliveries holding a slot, guarded by {@link #drained}: a batch is added (the loop
     * thread) and removed (the settler) under one lock, where a {@code ConcurrentHashMap} paid a
     * CAS and an update of its shared size counter per delivery, the counter's cache line bouncing
     * between the two threads (docs/BENCHMARKS.md, "JVM CPU once compiled").
     */
    private final HashMap<String, InFlight> inFlight = new HashMap<>();
    /** {@code inFlight.size()}, readable without the lock (the settler asks per event). */
    private volatile int count;
    private final WorkerStats stats;
    private final TimeSource time;
    private final Object drained = new Object();

    Slots(int limit, WorkerStats stats, TimeSource time) {
        this.limit = limit;
        this.permits = new Semaphore(limit);
        this.stats = stats;
        this.time = time;
    }

    int limit() {
        return limit;
    }

    boolean acquire(long timeoutMillis) throws InterruptedException {
        return permits.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    boolean acquire(int n) {
        return permits.tryAcquire(n);
    }

    boolean tryAcquire() {
        return permits.tryAcquire();
    }

    /**
     * Takes as many free permits as there are, up to {@code max}, without waiting: one update of
     * the semaphore where a loop of single takes paid one per permit (a refill on a handler's thread
     * takes every free slot, a few hundred, twice per few-keys round with cohorts).
     *
     * @return how many were taken
     */
    int tryAcquireUpTo(int max) {
        while (true) {
            int n = Math.min(max, permits.availablePermits());
            if (n <= 0) {
                return 0;
            }
            if (permits.tryAcquire(n)) {
                return n;
            }
        }
    }

    boolean tryAcquireNanos(long timeoutNanos) throws InterruptedException {
        return permits.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    int available() {
        return permits.availablePermits();
    }

    void release(int n) {
        if (n < 0) {
            // A transport returned more deliveries than it was asked for: a bug that would raise the
            // concurrency limit for good if ignored.
            throw new IllegalStateException("more deliveries than slots taken: " + -n + " too many");
        }
        if (n > 0) {
            permits.release(n);
        }
    }

    /** Records that a delivery now holds one of the permits taken for it. */
    void track(InFlight f) {
        trackAll(List.of(f));
    }

    /** Records that each of a batch's deliveries now holds one of the permits taken for it. */
    void trackAll(List<InFlight> fs) {
        synchronized (drained) {
            for (InFlight f : fs) {
                inFlight.put(f.delivery.id(), f);
            }
            count = inFlight.size();
        }
        // One clock read and one counter update per batch, not per delivery (docs/BENCHMARKS.md, "JVM path").
        stats.activated(time.wallMillis(), limit, fs.size());
    }

    /** Frees the slot of a delivery that is settled (or left pending for reclaim). */
    void finish(InFlight f) {
        finishAll(List.of(f));
    }

    /**
     * Frees the slots of a settled batch at once: one release of the permits wakes the loop
     * thread once per batch, where one per delivery woke it once per event (docs/BENCHMARKS.md,
     * "JVM path").
     */
    void finishAll(List<InFlight> fs) {
        if (fs.isEmpty()) {
            return;
        }
        boolean empty;
        synchronized (drained) {
            for (InFlight f : fs) {
                inFlight.remove(f.delivery.id());
            }
            count = inFlight.size();
            empty = count == 0;
        }
        stats.deactivated(limit, fs.size());
        permits.release(fs.size());
        if (empty) {
            synchronized (drained) {
                drained.notifyAll();
            }
        }
    }

    /** {@return how many deliveries hold a slot now} */
    int inFlightCount() {
        return count;
    }

    boolean isEmpty() {
        return count == 0;
    }

    List<InFlight> inFlight() {
        synchronized (drained) {
            return new ArrayList<>(inFlight.values());
        }
    }

    List<Delivery> deliveries() {
        synchronized (drained) {
            List<Delivery> out = new ArrayList<>(inFlight.size());
            for (InFlight f : inFlight.values()) {
                out.add(f.delivery);
            }
            return out;
        }
    }

    /** Wakes {@link #awaitEmpty} waiters to look again: the loop exited, or their deadline moved. */
    void wake() {
        synchronized (drained) {
            drained.notifyAll();
        }
    }

    /**
     * @param deadlineNanos a {@link TimeSource#nanoTime()} deadline, read again at every wake-up
     *                      so that one brought forward ends the wait
     * @param alsoDone      what else must hold; its change must be followed by {@link #wake()}
     * @return true if every slot was given back and {@code alsoDone} held before the deadline
     */
    boolean awaitEmpty(LongSupplier deadlineNanos, BooleanSupplier alsoDone) throws InterruptedException {
        synchronized (drained) {
            // The readers first: one tracks what it read before it ends, so "readers done" then "no
            // slot held" cannot miss a slot taken between the two reads; the other order can.
            while (!alsoDone.getAsBoolean() || !inFlight.isEmpty()) {
                long left = deadlineNanos.getAsLong() - time.nanoTime();
                if (left <= 0) {
                    return false;
                }
                // Bounded so that a fake time source advanced by a test is noticed.
                TimeUnit.NANOSECONDS.timedWait(drained, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
            }
            return true;
        }
    }
}
