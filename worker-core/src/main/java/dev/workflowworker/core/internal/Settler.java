package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.Lock;

import dev.workflowworker.core.TimeSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The group commit of successes: handlers that finish while a batch is being written queue up and
 * go together in the next call, so the transport sees one round trip per batch rather than one
 * per event, without adding latency when load is low. A success whose lease was lost, before or
 * at the commit, is redelivered instead.
 */
final class Settler {

    private static final int MAX_BATCH = 256;
    /** The longest single wait of a linger: the deadline is read again after each. */
    private static final long LINGER_SLICE_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final LinkedBlockingQueue<InFlight> queue = new LinkedBlockingQueue<>();
    private final BatchLocking locking;
    private final Settlement settlement;
    private final Slots slots;
    private final TimeSource time;
    private final long lingerNanos;
    private final Thread thread;
    private final java.util.function.Consumer<Throwable> crash;
    private volatile boolean stop;
    /** While the thread lingers: the size of its batch, for {@link #add} to tell the last success. */
    private volatile boolean lingering;
    private volatile int lingerBatch;
    /** Set once the thread no longer takes from the queue: from then on callers settle their own success. */
    private volatile boolean exited;

    Settler(BatchLocking locking, Settlement settlement, Slots slots, Threads threads, String role,
            java.util.function.Consumer<Throwable> crash) {
        this(locking, settlement, slots, threads, role, crash, TimeSource.system(), Duration.ZERO);
    }

    Settler(BatchLocking locking, Settlement settlement, Slots slots, Threads threads, String role,
            java.util.function.Consumer<Throwable> crash, TimeSource time, Duration linger) {
        this.locking = locking;
        this.settlement = settlement;
        this.slots = slots;
        this.time = time;
        this.lingerNanos = linger.toNanos();
        this.crash = crash;
        this.thread = threads.newThread(role, this::run);
    }

    void start() {
        thread.start();
    }

    void add(InFlight f) {
        queue.add(f);
        if (lingering && slots.inFlightCount() - lingerBatch - queue.size() <= 0) {
            LockSupport.unpark(thread);
        }
        if (exited) {
            // A handler that outlived its worker's close (it ignored the interrupt): commit it here,
            // or its lock would be renewed for ever and its marker never written.
            drainInline();
        }
    }

    private void drainInline() {
        List<InFlight> left = new ArrayList<>();
        queue.drainTo(left);
        if (!left.isEmpty()) {
            settleQuietly(left);
        }
    }

    private void settleQuietly(List<InFlight> batch) {
        try {
            settle(batch);
        } catch (RuntimeException ex) {
            settlement.infraError("settling a batch failed unexpectedly", ex);
        } catch (Error err) {
            // The worker cannot be trusted any more; the health monitor replaces a crashed one.
            crash.accept(err);
        }
    }

    /** Stops once what is queued is settled (those handlers succeeded), waiting up to {@code maxMillis}. */
    void stop(long maxMillis) {
        stop = true;
        try {
            thread.join(maxMillis);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        List<InFlight> batch = new ArrayList<>();
        while (true) {
            InFlight first;
            try {
                first = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                first = queue.poll();
            }
            if (first == null) {
                if (stop) {
                    exited = true;
                    // What was added between the empty poll and the flag is settled here; what is
                    // added after it, by its caller.
                    drainInline();
                    return;
                }
                continue;
            }
            batch.clear();
            batch.add(first);
            queue.drainTo(batch, MAX_BATCH - 1);
            linger(batch);
            settleQuietly(batch);
        }
    }

    /**
     * Adds to the batch the successes of handlers running now, waiting for them up to the linger:
     * not once none is left running, nor while more than a quarter of the worker's slots are
     * taken (a busy worker's batches fill by themselves, and waiting would only hold its slots
     * longer), nor at shutdown. Waits in short slices so that the deadline is read from the time
     * source, which a test may move.
     */
    private void linger(List<InFlight> batch) {
        if (lingerNanos <= 0) {
            return;
        }
        long end = time.nanoTime() + lingerNanos;
        int busy = Math.max(1, slots.limit() / 4);
        lingering = true;
        try {
            while (!stop && batch.size() < MAX_BATCH) {
                lingerBatch = batch.size();
                int running = slots.inFlightCount() - batch.size() - queue.size();
                long left = end - time.nanoTime();
                if (running <= 0 || slots.inFlightCount() > busy || left <= 0) {
                    break;
                }
                // Parked rather than waiting on the queue, which would wake this thread for each
                // success: add() wakes it once the last running handler's success is in.
                LockSupport.parkNanos(this, Math.min(left, LINGER_SLICE_NANOS));
                queue.drainTo(batch, MAX_BATCH - batch.size());
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
            }
        } finally {
            lingering = false;
        }
        queue.drainTo(batch, MAX_BATCH - batch.size());
    }

    private void settle(List<InFlight> batch) {
        List<InFlight> ok = new ArrayList<>(batch.size());
        long now = time.nanoTime();
        for (InFlight f : batch) {
            // The lease may have gone while the success waited in the queue: refuse it then too.
            if (f.context.isLeaseLost(now)) {
                settlement.leaseLostQuietly(f.delivery, f.attempt, f.elapsedNanos);
                f.watch.cancel();
                settlement.releaseLocks(List.of(f.lock));
                slots.finish(f);
            } else {
                ok.add(f);
            }
        }
        if (ok.isEmpty()) {
            return;
        }
        List<Delivery> deliveries = new ArrayList<>(ok.size());
        List<Lock> held = new ArrayList<>(ok.size());
        for (InFlight f : ok) {
            deliveries.add(f.delivery);
            held.add(f.lock);
        }
        // Renewals stop before the release: a renewal racing it would find the lock gone and
        // report a lost lease for an event that completed.
        for (InFlight f : ok) {
            f.watch.cancel();
        }
        List<Delivery> refused;
        boolean completed;
        try {
            refused = locking.completeAndRelease(deliveries, held);
            completed = true;
        } catch (RuntimeException ex) {
            refused = List.of();
            completed = false;
            settlement.infraError("settling " + ok.size() + " entries failed; they stay pending and will be reclaimed",
                    ex);
        }
        Set<Delivery> lost = Collections.newSetFromMap(new IdentityHashMap<>());
        lost.addAll(refused);
        for (InFlight f : ok) {
            if (lost.contains(f.delivery)) {
                // The store saw the lock gone at commit time: another holder may run this key now.
                settlement.leaseLostQuietly(f.delivery, f.attempt, f.elapsedNanos);
            } else if (completed) {
                settlement.succeeded(f);
            }
        }
        slots.finishAll(ok);
    }
}
