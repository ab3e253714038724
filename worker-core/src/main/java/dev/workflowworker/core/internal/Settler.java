package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.SettlementUnknownException;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.order.KeySequencer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
 * (docs/ARCHITECTURE.md, "The engine"). A few-keys batch started with nothing else of the worker
 * out, under more than one lock, runs as two cohorts, each committed by its own last handler while the other's handlers run
 * or its commit is on the wire, so that Redis and the handlers overlap instead of taking turns. The
 * settler's own thread then only commits what a handler still running would hold back past the
 * linger, and everything while the worker is busy. Who takes which success is decided under the
 * {@link CommitQueue}'s one lock: each is committed once.
 */
final class Settler {

    private static final Logger log = LoggerFactory.getLogger(Settler.class);
    private static final int MAX_BATCH = 256;
    /** The longest single wait of a linger: the deadline is read again after each. */
    private static final long LINGER_SLICE_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    /** The longest idle wait: the stop flag and a deadline on a moved time source are read again after each. */
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** What a commit made on a handler's thread freed is started by, on that thread; see {@link #handlerDone}. */
    interface Refill {
        /**
         * Reads what is ready into the free slots and starts it.
         *
         * @param afterCohort true when the commit was a cohort's: what it starts is a cohort too
         */
        void refill(boolean afterCohort);
    }

    /** The successes waiting and who takes them: each goes to exactly one commit. */
    private final CommitQueue successes = new CommitQueue();
    private final BatchLocking locking;
    private final Settlement settlement;
    private final Slots slots;
    private final TimeSource time;
    private final long lingerNanos;
    /** Above this many deliveries holding slots the worker is busy: its batches fill by themselves, nothing lingers. */
    private final int busy;
    private final String role;
    private final Thread thread;
    private final java.util.function.Consumer<Throwable> crash;
    private volatile boolean stop;
    /** Set while the thread parks with nothing to commit: a success it must commit at once unparks it. */
    private volatile boolean sleeping;
    /** Set while it parks for longer than the linger (the worker was idle): any success unparks it. */
    private volatile boolean sleepingLong;
    /** When the thread last saw a handler running or a success queued, on the time source's monotonic clock. */
    private long activeAtNanos;
    private volatile Refill refill = afterCohort -> { };

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
        this.role = role;
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
     * transport's {@link KeySequencer} does while nothing but the worker's own deliveries is out
     * ({@link KeySequencer#quietly}); what it leaves ready wakes the loop then.
     *
     * @param refill must not block for long
     */
    void afterInlineCommit(Refill refill) {
        this.refill = refill;
    }

    /**
     * Groups deliveries whose handlers are about to start, each holding a slot already tracked
     * (the dispatcher calls it before it hands them to the pool): while successes linger, a few-keys
     * batch with nothing else of the worker out, under more than one lock, becomes two cohorts, each committed by its own last
     * handler while the other's handlers run or its commit is on the wire; a cohort's refill is a
     * cohort again (docs/ARCHITECTURE.md, "The engine", few keys).
     *
     * @param afterCohortCommit true for the batch a cohort's commit refilled ({@link Refill})
     */
    void started(List<InFlight> started, boolean afterCohortCommit) {
        if (lingerNanos <= 0 || started.isEmpty()) {
            return;
        }
        long formed = successes.group(started, afterCohortCommit, slots.inFlightCount(), busy);
        if (formed > 0 && Long.bitCount(formed) <= 2 && log.isDebugEnabled()) {
            // A line at 1, 2, 3, 4, 5, 6, 8, ... cohorts: a test sees cohorts form without a log per batch.
            log.debug("{}: {} cohorts formed so far", role, formed);
        }
    }

    /** A delivery passed to {@link #started} whose handler will never run (the pool refused it). */
    void neverRan(InFlight f) {
        if (lingerNanos > 0) {
            successes.neverRan(f);
        }
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
        if (!successes.add(f, nowNanos)) {
            // A handler that outlived its worker's close (it ignored the interrupt): commit it here,
            // or its lock would be renewed for ever and its marker never written.
            commitTaken(List.of(f), false);
            return;
        }
        if (sleepingLong || !lingers() && sleeping) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * Called on a handler's thread after its delivery's handler returned, whatever its outcome,
     * outside its delivery's MDC: if successes linger and this was the last handler of its group
     * (its cohort; or, for the others, the worker's last loose handler with no loose commit on the
     * wire), this thread commits the group's successes now, then starts what the commit freed
     * ({@link #afterInlineCommit}). Waking the settler's thread for it, that thread waking the loop
     * once the commit freed the keys, and the loop waking a handler thread, were three hand-overs
     * per batch.
     */
    void handlerDone(InFlight f) {
        if (lingerNanos <= 0) {
            return;
        }
        boolean lingering = lingers();
        List<InFlight> mine = successes.finished(f, lingering);
        if (mine == null) {
            if (!lingering && sleeping && successes.size() > 0) {
                // The worker became busy since the success was queued: committing it is the settler's.
                LockSupport.unpark(thread);
            }
            return;
        }
        boolean loose = f.cohort == null;
        // A handler that returned after the drain's deadline interrupted it: the interrupt was for
        // the handler, and would fail this commit's waits (a cluster's redirect pause throws on it).
        boolean interrupted = Thread.interrupted();
        try {
            // Only the commit is counted as on the wire, not the refill after it: a handler the
            // refill started that finishes meanwhile must find no loose commit on the wire, and
            // commit its batch itself. The worker's own deliveries still out (the other cohort) do
            // not keep the refill from this thread; another worker's do.
            KeySequencer.quietly(() -> commitTaken(mine, loose), () -> refill.refill(!loose), slots::inFlightCount);
        } finally {
            if (!loose) {
                successes.cohortEnded();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Commits successes taken from the queue (counted as committing there) and ends their count. */
    private void commitTaken(List<InFlight> batch, boolean loose) {
        try {
            settleQuietly(batch);
        } finally {
            successes.committed(batch.size(), loose);
        }
    }

    /** {@return true while successes wait for the worker's other running handlers: a linger is set and few slots are taken} */
    private boolean lingers() {
        return lingerNanos > 0 && slots.inFlightCount() <= busy;
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
        // Under the queue's lock: a handler's thread either took its batch before (counted as
        // committing, waited for below) or leaves it to this thread's last drain.
        successes.stop();
        stop = true;
        LockSupport.unpark(thread);
        try {
            thread.join(maxMillis);
            successes.awaitCommits(deadline, time);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (true) {
            // Under a linger this thread commits only once the oldest success waited that long:
            // before, the last handler of its group commits it (handlerDone), and a commit here
            // would split its batch.
            boolean lingering = !stop && lingers();
            List<InFlight> batch = successes.takeDue(lingering ? time.nanoTime() - lingerNanos : Long.MAX_VALUE,
                    MAX_BATCH);
            if (batch == null) {
                if (stop) {
                    // What was added before the close is settled here; what is added after it, by its caller.
                    List<InFlight> left = successes.close();
                    if (!left.isEmpty()) {
                        commitTaken(left, false);
                    }
                    return;
                }
                idle();
                continue;
            }
            if (batch.isEmpty()) {
                long now = time.nanoTime();
                long left = successes.oldestQueuedAt(now) + lingerNanos - now;
                if (left > 0) {
                    // Short slices: the deadline is read from the time source, which a test may move.
                    LockSupport.parkNanos(this, Math.min(left, LINGER_SLICE_NANOS));
                    Thread.interrupted();
                }
                continue;
            }
            commitTaken(batch, false);
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
            if (successes.size() == 0 && !stop) {
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
