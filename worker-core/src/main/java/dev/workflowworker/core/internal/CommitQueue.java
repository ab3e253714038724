package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.TimeSource;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A worker's successes waiting for their commit, and the groups whose last handler commits them
 * ({@link Settler}). Every take happens under this class's one lock, so a success goes to exactly
 * one commit whichever threads race for it: the settler's thread when the linger is up, the last
 * handler of its group, or the close. A queue whose bulk removal tests its elements outside its
 * lock ({@code LinkedBlockingQueue.removeIf} on Java 17) let a cohort's commit and the settler's
 * drain both take one success: committed, reported and its slot freed twice, the concurrency
 * limit raised for good (docs/BENCHMARKS.md, "j17keys").
 *
 * <p>A group is a <em>cohort</em> (deliveries started together whose last handler commits them,
 * whatever else of the worker runs or commits meanwhile) or the worker's loose deliveries (all the
 * others: their last handler commits them once none of them runs and no commit of theirs is on
 * the wire). See docs/ARCHITECTURE.md, "The engine", few keys.
 */
final class CommitQueue {

    /** Deliveries started together whose successes commit together. */
    static final class Cohort {
        /** Members whose handler's thread has not yet returned to the settler. */
        private final AtomicInteger open = new AtomicInteger();
    }

    /** Fewest deliveries of a batch split into two cohorts: with fewer, one commit per batch is cheaper. */
    static final int MIN_SPLIT = 4;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when {@link #committing} drops to 0 while stopping. */
    private final Condition commitsDone = lock.newCondition();
    /** In the order queued, so the head is the oldest; guarded by {@link #lock}. */
    private final ArrayDeque<InFlight> queue = new ArrayDeque<>();
    /** {@code queue.size()}, readable without the lock. */
    private volatile int size;
    /** Successes taken by a commit not yet finished, on any thread. */
    private int committing;
    /**
     * Loose deliveries whose handler's thread has not yet returned to the settler. Counted without
     * the lock, as a cohort's members are: a busy worker's handlers return without taking it, and
     * only the one that brings a count to 0 does.
     */
    private final AtomicInteger looseOpen = new AtomicInteger();
    /** Commits of loose successes made on a handler's thread and still on the wire. */
    private int looseCommits;
    /**
     * Cohorts formed whose last handler has not yet finished its commit and refill: a cohort's
     * refill takes its place, so a refill that finds the other cohort between its commit and its
     * own refill does not split again (three cohorts, then four, each a commit more per round).
     */
    private int alive;
    /** Set by {@link #stop}: handlers' threads no longer take, the settler's thread takes everything. */
    private boolean stopping;
    /** Set once the settler's thread left: a success is then settled by its caller. */
    private boolean closed;
    private long cohortsFormed;

    /** {@return how many successes wait} */
    int size() {
        return size;
    }

    /**
     * Groups deliveries whose handlers are about to start, each holding a slot already: a batch of
     * {@link #MIN_SPLIT} or more, at most {@code few}, with nothing else of the worker out and no
     * other cohort alive, becomes two cohorts, split along their locks (a partition's lease) so that
     * a partition's entries commit in one call; a batch all under one lock is not split, since
     * either half would commit the same partition (two scripts a round, landing in either order);
     * any other refill of a cohort's commit becomes one cohort, in its place; any other batch is
     * loose.
     *
     * @param started           the deliveries, handlers not yet started
     * @param afterCohortCommit true for the refill a cohort's commit made
     * @param held              slots held by the worker now, these included
     * @param few               the most slots held for the worker to count as lingering
     * @return cohorts formed so far, once this call formed one; else 0
     */
    long group(List<InFlight> started, boolean afterCohortCommit, int held, int few) {
        int n = started.size();
        lock.lock();
        try {
            int others = alive - (afterCohortCommit ? 1 : 0);
            List<List<InFlight>> byLock;
            if (n >= MIN_SPLIT && n <= few && held == n && others == 0 && (byLock = byLock(started)).size() > 1) {
                split(byLock, n);
                alive += 2;
                cohortsFormed += 2;
                return cohortsFormed;
            }
            if (afterCohortCommit && held <= few) {
                alive++;
                Cohort c = new Cohort();
                c.open.set(n);
                for (InFlight f : started) {
                    f.cohort = c;
                }
                cohortsFormed++;
                return cohortsFormed;
            }
            looseOpen.addAndGet(n);
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** {@return the deliveries grouped by their lock, in the order each lock first appears; no lock is a group of its own} */
    private static List<List<InFlight>> byLock(List<InFlight> fs) {
        List<List<InFlight>> byLock = new ArrayList<>();
        for (InFlight f : fs) {
            List<InFlight> same = null;
            for (List<InFlight> g : byLock) {
                Lock l = g.get(0).lock;
                if (l != null && l == f.lock) {
                    same = g;
                    break;
                }
            }
            if (same == null) {
                same = new ArrayList<>(4);
                byLock.add(same);
            }
            same.add(f);
        }
        return byLock;
    }

    /**
     * Two cohorts of about half each, deliveries sharing a lock together (the largest group first,
     * each to the smaller cohort).
     *
     * @param byLock two or more groups, {@link #byLock}
     * @param n      the deliveries in all
     */
    private static void split(List<List<InFlight>> byLock, int n) {
        Cohort a = new Cohort();
        Cohort b = new Cohort();
        int inA = 0;
        int inB = 0;
        byLock.sort((x, y) -> Integer.compare(y.size(), x.size()));
        for (List<InFlight> g : byLock) {
            boolean toA = inA <= inB;
            for (InFlight f : g) {
                f.cohort = toA ? a : b;
            }
            if (toA) {
                inA += g.size();
            } else {
                inB += g.size();
            }
        }
        a.open.set(inA);
        b.open.set(n - inA);
    }

    /**
     * Queues a success, unless the settler's thread left: then it is counted as committing, and
     * the caller commits it and calls {@link #committed}.
     *
     * @return false when the caller commits it
     */
    boolean add(InFlight f, long nowNanos) {
        lock.lock();
        try {
            if (closed) {
                committing++;
                return false;
            }
            f.queuedAtNanos = nowNanos;
            queue.addLast(f);
            size = queue.size();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The handler's thread of {@code f} returned to the settler: counts it out of its group and,
     * when it was the group's last and {@code lingering} (the settler's thread commits everything
     * otherwise), takes the group's queued successes for this thread to commit.
     *
     * @return the successes this thread commits, counted as committing; null when none
     */
    List<InFlight> finished(InFlight f, boolean lingering) {
        Cohort c = f.cohort;
        if ((c != null ? c.open : looseOpen).decrementAndGet() > 0) {
            // Others of its group still run: only the last takes the lock.
            return null;
        }
        lock.lock();
        try {
            if (c != null && (!lingering || stopping || closed || !queuedAny(c))) {
                alive--;
                return null;
            }
            if (c == null && looseCommits > 0) {
                // A commit of loose successes is on the wire: what queued meanwhile goes in one
                // later batch, not beside it carrying half as much.
                return null;
            }
            if (!lingering || stopping || closed || queue.isEmpty()) {
                return null;
            }
            List<InFlight> mine = null;
            for (Iterator<InFlight> it = queue.iterator(); it.hasNext(); ) {
                InFlight q = it.next();
                if (q.cohort == c) {
                    it.remove();
                    if (mine == null) {
                        mine = new ArrayList<>(c == null ? queue.size() + 1 : 8);
                    }
                    mine.add(q);
                }
            }
            if (mine == null) {
                return null;
            }
            size = queue.size();
            committing += mine.size();
            if (c == null) {
                looseCommits++;
            }
            return mine;
        } finally {
            lock.unlock();
        }
    }

    private boolean queuedAny(Cohort c) {
        for (InFlight q : queue) {
            if (q.cohort == c) {
                return true;
            }
        }
        return false;
    }

    /**
     * The last handler of a cohort, to which {@link #finished} gave the cohort's successes, has
     * committed them and refilled (or found nothing to refill): its refill's cohort, if any, is alive in its place.
     */
    void cohortEnded() {
        lock.lock();
        try {
            alive--;
        } finally {
            lock.unlock();
        }
    }

    /** A delivery grouped by {@link #group} whose handler will never run (its pool refused it). */
    void neverRan(InFlight f) {
        if (f.cohort == null) {
            looseOpen.decrementAndGet();
        } else if (f.cohort.open.decrementAndGet() == 0) {
            lock.lock();
            try {
                alive--;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * For the settler's thread: takes up to {@code max} successes, oldest first, if the oldest was
     * queued no later than {@code queuedBy} ({@code Long.MAX_VALUE}: whenever queued).
     *
     * @return null when none waits; empty when the oldest is not due yet; else those taken, counted as committing
     */
    List<InFlight> takeDue(long queuedBy, int max) {
        lock.lock();
        try {
            InFlight head = queue.peekFirst();
            if (head == null) {
                return null;
            }
            if (queuedBy != Long.MAX_VALUE && head.queuedAtNanos - queuedBy > 0) {
                return List.of();
            }
            List<InFlight> batch = new ArrayList<>(Math.min(max, queue.size()));
            while (batch.size() < max && !queue.isEmpty()) {
                batch.add(queue.pollFirst());
            }
            size = queue.size();
            committing += batch.size();
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /** {@return when the oldest success waiting was queued; {@code now} when none waits} */
    long oldestQueuedAt(long now) {
        lock.lock();
        try {
            InFlight head = queue.peekFirst();
            return head == null ? now : head.queuedAtNanos;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A commit of {@code n} taken successes ended (whatever its result).
     *
     * @param loose true for a commit of loose successes on a handler's thread ({@link #finished})
     */
    void committed(int n, boolean loose) {
        lock.lock();
        try {
            committing -= n;
            if (loose) {
                looseCommits--;
            }
            if (committing == 0 && stopping) {
                commitsDone.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** From now on only the settler's thread takes, without lingering. */
    void stop() {
        lock.lock();
        try {
            stopping = true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The settler's thread leaves: takes what still waits, counted as committing, for it to
     * commit; later successes are their callers' ({@link #add}).
     */
    List<InFlight> close() {
        lock.lock();
        try {
            closed = true;
            List<InFlight> left = new ArrayList<>(queue);
            queue.clear();
            size = 0;
            committing += left.size();
            return left;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until no commit is on the wire on any thread, up to {@code deadlineNanos} on {@code time}
     * (read again at least every 100 ms, for a time source a test moves).
     *
     * @return false if the deadline came first
     */
    boolean awaitCommits(long deadlineNanos, TimeSource time) throws InterruptedException {
        lock.lock();
        try {
            while (committing > 0) {
                long left = deadlineNanos - time.nanoTime();
                if (left <= 0) {
                    return false;
                }
                commitsDone.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** {@return cohorts formed so far} */
    long cohortsFormed() {
        lock.lock();
        try {
            return cohortsFormed;
        } finally {
            lock.unlock();
        }
    }
}
