package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.SettlementUnknownException;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.order.KeySequencer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The group commit of successes: handlers that finish while a batch is being written queue up and
 * go together in the next call, so the transport sees one round trip per batch rather than one
 * per event, without adding latency when load is low. A success whose lease was lost, before or
 * at the commit, is redelivered instead.
 *
 * <p>With a consumer's {@code commitLinger} and few handlers running (at most a quarter of the
 * slots), successes wait for the worker's other running handlers, up to the linger, and the
 * handler thread that finishes last commits the batch itself ({@link #handlerDone}) instead of
 * waking this class's thread for it: with few keys each key's next event waits for this commit,
 * and every hand-over between threads on the way cost more CPU than the event
 * (docs/ARCHITECTURE.md, "The engine"). The settler's own thread then only commits what a
 * handler still running would hold back past the linger, and everything while the worker is busy.
 */
final class Settler {

    private static final int MAX_BATCH = 256;
    /** The longest single wait of a linger: the deadline is read again after each. */
    private static final long LINGER_SLICE_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    /** The longest idle wait: the stop flag and a deadline on a moved time source are read again after each. */
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final LinkedBlockingQueue<InFlight> queue = new LinkedBlockingQueue<>();
    private final BatchLocking locking;
    private final Settlement settlement;
    private final Slots slots;
    private final TimeSource time;
    private final long lingerNanos;
    /** Above this many deliveries holding slots the worker is busy: its batches fill by themselves, nothing lingers. */
    private final int busy;
    private final Thread thread;
    private final java.util.function.Consumer<Throwable> crash;
    private volatile boolean stop;
    /** Set while the thread parks with nothing to commit: a success it must commit at once unparks it. */
    private volatile boolean sleeping;
    /** Set while it parks for longer than the linger (the worker was idle): any success unparks it. */
    private volatile boolean sleepingLong;
    /** When the thread last saw a handler running or a success queued, on the time source's monotonic clock. */
    private long activeAtNanos;
    /** When the oldest success queued now was queued, on the time source's monotonic clock: the linger counts from it. */
    private volatile long firstQueuedNanos;
    /**
     * Successes taken from the queue by a commit not yet finished: their slots are held, but their
     * handlers ran. A handler's thread adds one more while it may commit ({@link #handlerDone}), so
     * that {@link #stop} sees its commit coming.
     */
    private final AtomicInteger committing = new AtomicInteger();
    /** Notified, once stopping, when {@link #committing} drops to 0. */
    private final Object commitsDone = new Object();
    /** Set once the thread no longer takes from the queue: from then on callers settle their own success. */
    private volatile boolean exited;
    /** Starts what a commit made on a handler's thread freed, on that thread; see {@link #handlerDone}. */
    private volatile Runnable refill = () -> { };

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
        this.busy = Math.max(1, slots.limit() / 4);
        this.crash = crash;
        this.thread = threads.newThread(role, this::run);
    }

    void start() {
        thread.start();
    }

    /**
     * Sets what a handler's thread runs right after it committed a batch ({@link #handlerDone}):
     * the worker's read of what that commit freed and the start of its handlers, so that a key's
     * next event starts from the thread that committed the one before, not after a hand-over to
     * the worker's loop. It runs only when the commit's wakes were held back, which an ordering
     * transport's {@link KeySequencer} does while nothing else of it is out ({@link
     * KeySequencer#quietly}); what it leaves ready wakes the loop then.
     *
     * @param refill must not block for long
     */
    void afterInlineCommit(Runnable refill) {
        this.refill = refill;
    }

    /** Queues a success; its handler's thread calls {@link #handlerDone} once the handler returned. */
    void add(InFlight f) {
        add(f, time.nanoTime());
    }

    /**
     * As {@link #add(InFlight)}, with the time the handler returned, read by its caller just
     * before on the same monotonic clock: the linger counts from it, and a clock read per success
     * showed in profiles (docs/BENCHMARKS.md, "jjvm3").
     */
    void add(InFlight f, long nowNanos) {
        if (lingerNanos > 0 && queue.isEmpty()) {
            firstQueuedNanos = nowNanos;
        }
        queue.add(f);
        if (sleepingLong || !lingers() && sleeping) {
            LockSupport.unpark(thread);
        }
        if (exited) {
            // A handler that outlived its worker's close (it ignored the interrupt): commit it here,
            // or its lock would be renewed for ever and its marker never written.
            drainInline();
        }
    }

    /**
     * Called on a handler's thread after its delivery's handler returned, whatever its outcome,
     * outside its delivery's MDC: if successes linger and no other handler of the worker still
     * runs, this thread commits them now, then starts what the commit freed ({@link
     * #afterInlineCommit}). Waking the settler's thread for it, that thread waking the loop once
     * the commit freed the keys, and the loop waking a handler thread, were three hand-overs per
     * batch.
     */
    void handlerDone() {
        if (lingerNanos <= 0 || exited || queue.isEmpty()) {
            return;
        }
        if (!lingers()) {
            // The worker became busy since the success was queued: committing it is the settler's.
            if (sleeping) {
                LockSupport.unpark(thread);
            }
            return;
        }
        if (running() > 0 || committing.get() > 0) {
            // Handlers still run, or a commit of this worker is on the wire: what queued meanwhile
            // goes in one later batch (the last handler's, or the settler's once the linger is up),
            // not in a second commit beside it that carries half as much.
            return;
        }
        // A handler that returned after the drain's deadline interrupted it: the interrupt was for
        // the handler, and would fail this commit's waits (a cluster's redirect pause throws on it).
        boolean interrupted = Thread.interrupted();
        try {
            KeySequencer.quietly(this::commitInline, refill);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (!queue.isEmpty() && sleeping) {
            // More than one batch was queued: the rest is the settler's.
            LockSupport.unpark(thread);
        }
    }

    /**
     * The commit of {@link #handlerDone}, counted in {@link #committing} before the stop flag is
     * read, while {@link #stop} sets the flag before it reads the count: either this thread sees
     * the stop and leaves the queue to the settler's thread, or the close waits for this commit
     * before it closes the consumer (docs/ARCHITECTURE.md, "The engine"). Only the commit is
     * counted, not the refill after it: a handler the refill started that finishes meanwhile
     * must still find no commit on the wire, and commit its batch itself.
     */
    private void commitInline() {
        committing.incrementAndGet();
        try {
            if (!stop) {
                commitQueued();
            }
        } finally {
            commitEnded(1);
        }
    }

    /** Ends {@code n} of {@link #committing}; the last wakes a {@link #stop} waiting for it. */
    private void commitEnded(int n) {
        if (committing.addAndGet(-n) == 0 && stop) {
            synchronized (commitsDone) {
                commitsDone.notifyAll();
            }
        }
    }

    /** {@return true while successes wait for the worker's other running handlers: a linger is set and few slots are taken} */
    private boolean lingers() {
        return lingerNanos > 0 && slots.inFlightCount() <= busy;
    }

    /** {@return the worker's handlers still running: slots held by neither a queued nor a committing success} */
    private int running() {
        return slots.inFlightCount() - queue.size() - committing.get();
    }

    private void drainInline() {
        List<InFlight> left = new ArrayList<>();
        queue.drainTo(left);
        if (!left.isEmpty()) {
            committing.addAndGet(left.size());
            try {
                settleQuietly(left);
            } finally {
                commitEnded(left.size());
            }
        }
    }

    /** Takes up to a batch from the queue and commits it on the calling thread. */
    private void commitQueued() {
        List<InFlight> batch = new ArrayList<>(Math.min(MAX_BATCH, Math.max(1, queue.size())));
        queue.drainTo(batch, MAX_BATCH);
        if (batch.isEmpty()) {
            return;
        }
        committing.addAndGet(batch.size());
        try {
            settleQuietly(batch);
        } finally {
            commitEnded(batch.size());
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

    /**
     * Stops once what is queued is settled (those handlers succeeded) and no commit of this
     * worker is still on the wire, whichever thread makes it (a handler's, {@link #handlerDone}),
     * waiting up to {@code maxMillis} in all: the caller closes the consumer next.
     */
    void stop(long maxMillis) {
        long deadline = time.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        stop = true;
        LockSupport.unpark(thread);
        try {
            thread.join(maxMillis);
            synchronized (commitsDone) {
                while (committing.get() > 0) {
                    long left = deadline - time.nanoTime();
                    if (left <= 0) {
                        return;
                    }
                    // Bounded so that a deadline on a time source a test moves is noticed.
                    TimeUnit.NANOSECONDS.timedWait(commitsDone, Math.min(left, IDLE_NANOS));
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (true) {
            if (queue.isEmpty()) {
                if (stop) {
                    exited = true;
                    // What was added between the empty check and the flag is settled here; what is
                    // added after it, by its caller.
                    drainInline();
                    return;
                }
                idle();
                continue;
            }
            // Under a linger this thread commits only once it is up: before, the handler that
            // finishes last commits (handlerDone), and a commit here would split its batch.
            if (!stop && lingers()) {
                long left = firstQueuedNanos + lingerNanos - time.nanoTime();
                if (left > 0) {
                    // Short slices: the deadline is read from the time source, which a test may move.
                    LockSupport.parkNanos(this, Math.min(left, LINGER_SLICE_NANOS));
                    Thread.interrupted();
                    continue;
                }
            }
            commitQueued();
        }
    }

    /**
     * Parks while nothing is queued. A success that lingers does not wake this thread (the last
     * handler commits it, {@link #handlerDone}); while the worker is active under a linger the
     * thread looks again every linger instead, so a success behind a long handler waits no longer
     * than that. Once no handler has run for an idle wait, it parks long, and the next success
     * wakes it.
     */
    private void idle() {
        long now = time.nanoTime();
        if (slots.inFlightCount() > 0) {
            activeAtNanos = now;
        }
        boolean active = lingerNanos > 0 && now - activeAtNanos < IDLE_NANOS;
        sleeping = true;
        sleepingLong = !active;
        try {
            if (queue.isEmpty() && !stop) {
                LockSupport.parkNanos(this, active ? Math.min(lingerNanos, IDLE_NANOS) : IDLE_NANOS);
                // An interrupt meant for no one here would make every later park return at once.
                Thread.interrupted();
            }
        } finally {
            sleepingLong = false;
            sleeping = false;
        }
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
        Set<Delivery> lost = Collections.newSetFromMap(new IdentityHashMap<>());
        // Null when every delivery not refused stood; else only these did, and the rest are unknown.
        Set<Delivery> stood = null;
        try {
            lost.addAll(locking.completeAndRelease(deliveries, held));
        } catch (SettlementUnknownException ex) {
            // Settled in separate steps (partitions), some failed: each counts as what it became.
            lost.addAll(ex.refused());
            stood = Collections.newSetFromMap(new IdentityHashMap<>());
            stood.addAll(ex.settled());
            settlement.infraError("settling " + ex.unknown().size() + " of " + ok.size() + " entries failed; "
                    + "whether they completed is unknown, and the transport finds out (one not settled runs again)", ex);
        } catch (RuntimeException ex) {
            stood = Set.of();
            settlement.infraError("settling " + ok.size() + " entries failed; they stay pending and will be reclaimed",
                    ex);
        }
        for (InFlight f : ok) {
            if (lost.contains(f.delivery)) {
                // The store saw the lock gone at commit time: another holder may run this key now.
                settlement.leaseLostQuietly(f.delivery, f.attempt, f.elapsedNanos);
            } else if (stood == null || stood.contains(f.delivery)) {
                settlement.succeeded(f);
            }
            // Else unknown: no success is reported for a commit whose reply was lost, ever, even
            // when it landed (docs/ARCHITECTURE.md, "Why a stale reader cannot lose, duplicate or
            // reorder", point 6): the delivery is not retried here either, since it may be settled.
        }
        slots.finishAll(ok);
    }
}
