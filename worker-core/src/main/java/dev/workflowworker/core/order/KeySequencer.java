package dev.workflowworker.core.order;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Per-key order for transports that promise it (the in-memory transport by default, the Redis
 * transport with partitions): deliveries go in in stream order, and at most one delivery per lock key is out at a time, the
 * oldest; the next of a key comes out only once the one before is settled. A recoverable retry
 * keeps its key's place: {@link #hold} puts the delivery back at the head of its key until it is
 * due, so the key's later deliveries wait while other keys go on. See docs/ARCHITECTURE.md,
 * "Ordered processing".
 *
 * <p>A transport keeps one sequencer for everything it reads and lets every consumer it opened
 * take from it, so several workers share one order. Deliveries carry the partition they were
 * read from, so that a transport that loses a partition can drop what it buffered of it while
 * the deliveries already handed out keep their keys blocked until they settle.
 *
 * <p>Thread-safe; the work per call is proportional to what it returns or changes, except for
 * {@link #dropPartition}, which walks the buffer.
 */
public final class KeySequencer {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Guarded by {@link #lock}. */
    private final KeyQueues queues;
    private volatile Runnable onReady = () -> { };
    private long signals;

    /**
     * Creates an empty sequencer.
     *
     * @param time wall time decides when a held delivery is due, as the transport's retry times are wall times
     */
    public KeySequencer(TimeSource time) {
        this.queues = new KeyQueues(Objects.requireNonNull(time, "time"));
    }

    /**
     * Sets what runs, outside the sequencer's lock, when a delivery becomes ready or a hold is
     * added: a transport whose reader may be blocked on the network uses it to wake that reader.
     *
     * @param onReady the callback; it must not block
     */
    public void onReady(Runnable onReady) {
        this.onReady = Objects.requireNonNull(onReady, "onReady");
    }

    /**
     * The key a delivery is ordered by: the event's lock key; an undecodable entry has none and
     * is ordered by nothing but itself.
     *
     * @param d the delivery
     * @return its key
     */
    public static String keyOf(Delivery d) {
        return d.isMalformed() ? "\u0000malformed:" + d.id() : d.event().lockKey();
    }

    /**
     * Adds a delivery behind what its key already has. A delivery whose id is already here is
     * ignored, so re-reading a pending list is harmless.
     *
     * @param partition the partition it was read from (0 for a transport without partitions)
     * @param d         the delivery, in stream order with every other offer of its partition
     * @return false if its id was already here
     */
    public boolean offer(int partition, Delivery d) {
        return offer(partition, d, 0L);
    }

    /**
     * Like {@link #offer(int, Delivery)} for a delivery that a retry held before this process
     * read it (recorded by the transport): it waits until {@code dueAtMillis} once it is its key's
     * head.
     *
     * @param partition   the partition
     * @param d           the delivery, carrying the attempt it is due for
     * @param dueAtMillis wall time it is due at; 0 or the past for now
     * @return false if its id was already here
     */
    public boolean offer(int partition, Delivery d, long dueAtMillis) {
        Objects.requireNonNull(d, "d");
        boolean signal;
        lock.lock();
        try {
            if (queues.get(d.id()) != null) {
                return false;
            }
            signal = queues.add(keyOf(d), partition, d, dueAtMillis);
            wakeWaiters();
        } finally {
            lock.unlock();
        }
        if (signal) {
            signalled();
        }
        return true;
    }

    /**
     * Takes up to {@code max} deliveries that may start now, at most one per key.
     *
     * @param max the most to take
     * @return the deliveries, each now out until settled, held or handed back
     */
    public List<Delivery> poll(int max) {
        List<Taken> taken = take(max);
        List<Delivery> out = new ArrayList<>(taken.size());
        for (Taken t : taken) {
            out.add(t.delivery());
        }
        return out;
    }

    /**
     * A delivery taken with the partition it was offered from.
     *
     * @param delivery  the delivery
     * @param partition its partition
     */
    public record Taken(Delivery delivery, int partition) { }

    /**
     * Like {@link #poll} but tells each delivery's partition.
     *
     * @param max the most to take
     * @return the deliveries with their partitions
     */
    public List<Taken> take(int max) {
        lock.lock();
        try {
            List<Taken> out = queues.take(max);
            wakeWaiters();
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until something may have become ready, or the time is up.
     *
     * @param maxNanos the longest to wait
     * @throws InterruptedException if interrupted while waiting
     */
    public void await(long maxNanos) throws InterruptedException {
        await(maxNanos, signals());
    }

    /**
     * {@return a count of the wake-ups so far, to pass to {@link #await(long, long)}}
     */
    public long signals() {
        lock.lock();
        try {
            return signals;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Like {@link #await(long)}, but returns at once if a wake-up came since {@code seen} was taken
     * from {@link #signals()}: a caller that decides how long to wait from state kept elsewhere (a
     * delayed event's due time) cannot miss a wake-up that came while it decided.
     *
     * @param maxNanos the longest to wait
     * @param seen     what {@link #signals()} returned before the caller looked at that state
     * @throws InterruptedException if interrupted while waiting
     */
    public void await(long maxNanos, long seen) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            if (queues.anyReady()) {
                return;
            }
            // No longer than until the earliest held delivery is due; with none held (Long.MAX_VALUE millis, which
            // toNanos saturates) maxNanos bounds it alone.
            long limit = Math.min(maxNanos, TimeUnit.MILLISECONDS.toNanos(queues.millisUntilNextDue()));
            while (limit > 0 && seen == signals) {
                limit = changed.awaitNanos(limit);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The delivery is done (succeeded, dead-lettered, acknowledged): the next of its key may
     * come out.
     *
     * @param id the delivery's id
     * @return false if the id was not here (dropped with its partition, or never offered)
     */
    public boolean settled(String id) {
        boolean signal;
        lock.lock();
        try {
            KeyQueues.Entry e = queues.get(id);
            if (e == null) {
                return false;
            }
            signal = queues.settle(e);
            wakeWaiters();
        } finally {
            lock.unlock();
        }
        if (signal) {
            signalled();
        }
        return true;
    }

    /**
     * Like {@link #settled} for many deliveries at once, such as a committed batch: one wake-up
     * for all of them, so a waiting reader takes every key they free in one go rather than one
     * key per wake-up.
     *
     * @param ids the deliveries' ids; ids not here are skipped
     */
    public void settledAll(Collection<String> ids) {
        boolean signal = false;
        lock.lock();
        try {
            for (String id : ids) {
                KeyQueues.Entry e = queues.get(id);
                if (e != null) {
                    signal |= queues.settle(e);
                }
            }
            wakeWaiters();
        } finally {
            lock.unlock();
        }
        if (signal) {
            signalled();
        }
    }

    /**
     * A retry holds the delivery at its key's head until {@code dueAtMillis}, with the attempt it
     * will be for; the key's later deliveries wait.
     *
     * @param id          the delivery's id
     * @param dueAtMillis wall time it is due at
     * @param attempt     the attempt it will be for
     * @return false if the id was not here
     */
    public boolean hold(String id, long dueAtMillis, int attempt) {
        lock.lock();
        try {
            KeyQueues.Entry e = queues.get(id);
            if (e == null) {
                return false;
            }
            queues.hold(e, dueAtMillis, attempt);
            wakeWaiters();
        } finally {
            lock.unlock();
        }
        onReady.run();
        return true;
    }

    /**
     * The delivery comes back unprocessed (a pause or shutdown): it is the next out for its key,
     * ahead of other keys, without counting an attempt.
     *
     * @param id the delivery's id
     * @return false if the id was not here
     */
    public boolean handBack(String id) {
        lock.lock();
        try {
            KeyQueues.Entry e = queues.get(id);
            if (e == null || !queues.handBack(e)) {
                return false;
            }
            wakeWaiters();
        } finally {
            lock.unlock();
        }
        onReady.run();
        return true;
    }

    /**
     * Forgets what is buffered of a partition that is lost or given away. Deliveries of it that
     * are out stay, keeping their keys blocked, until the transport {@link #settled settles}
     * them: their outcome can no longer be recorded, but the next owner of the partition must
     * not see this process run them side by side with what it reads anew.
     *
     * @param partition the partition
     * @return how many of its deliveries are still out
     */
    public int dropPartition(int partition) {
        lock.lock();
        try {
            int out = queues.dropPartition(partition);
            wakeWaiters();
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Counts the deliveries of a partition that are out now.
     *
     * @param partition the partition
     * @return how many of its deliveries are out now
     */
    public int outstanding(int partition) {
        lock.lock();
        try {
            return queues.outstanding(partition);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Counts the deliveries of a partition here and not out: what its keys can still take
     * without another read of the partition.
     *
     * @param partition the partition
     * @return how many of its deliveries are here, ready or not, and not out
     */
    public int waiting(int partition) {
        lock.lock();
        try {
            return queues.waiting(partition);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Cuts {@link #await} calls short, so that their callers look again at what the sequencer
     * does not know of (a delayed event that just became the earliest).
     */
    public void wake() {
        lock.lock();
        try {
            signals++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** {@return true when a delivery may be taken now} */
    public boolean hasReady() {
        lock.lock();
        try {
            return queues.hasReady();
        } finally {
            lock.unlock();
        }
    }

    /** {@return milliseconds until the earliest held delivery is due; 0 if one is, {@code Long.MAX_VALUE} if none is held} */
    public long millisUntilNextDue() {
        lock.lock();
        try {
            return queues.millisUntilNextDue();
        } finally {
            lock.unlock();
        }
    }

    /** {@return how many deliveries are here, out or not} */
    public int size() {
        lock.lock();
        try {
            return queues.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@return the keys a retry holds now (not yet due) and how long the longest has been held}
     */
    public Holds holds() {
        lock.lock();
        try {
            return queues.holds();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Keys held by a retry.
     *
     * @param keys         how many keys wait out a retry's backoff now
     * @param longestMillis how long the longest of them has been held, in milliseconds
     */
    public record Holds(int keys, long longestMillis) { }

    /**
     * Under the lock, once per call: wakes {@link #await} callers for what the call changed,
     * unless the current thread runs {@link #quietly} and the change only made deliveries ready.
     * Every waiter is woken: with one woken per change, the many-keys benchmark's two workers
     * took turns where both had read, and spent about 1 µs more of JVM CPU per event
     * (docs/BENCHMARKS.md, "Few keys: hand-overs per batch").
     */
    private void wakeWaiters() {
        switch (queues.takeWake()) {
            case ONE -> {
                if (holdsBack()) {
                    return;
                }
                signals++;
                changed.signalAll();
            }
            case ALL -> {
                signals++;
                changed.signalAll();
            }
            default -> { }
        }
    }

    private void signalled() {
        if (holdsBack()) {
            return;
        }
        onReady.run();
    }

    /**
     * Runs {@code task} (a commit) with the wakes for deliveries it makes ready held back, then
     * {@code take} on the same thread if nothing else of the sequencers it touched is out by then
     * but the caller's own deliveries (a worker's other cohort, which stay its to commit); see
     * {@link HeldWakes} (docs/ARCHITECTURE.md, "The engine", few keys).
     *
     * @param task what makes deliveries ready, such as a commit
     * @param take what takes them, run only when {@code task} made some ready and no more than {@code own} are out
     * @param own  the caller's own deliveries out, read after {@code task}
     */
    public static void quietly(Runnable task, Runnable take, java.util.function.IntSupplier own) {
        HeldWakes.quietly(task, take, own);
    }

    /** {@return how many deliveries are out now, over every partition} */
    int outstanding() {
        lock.lock();
        try {
            return queues.outTotal();
        } finally {
            lock.unlock();
        }
    }

    /** {@return true when the current thread runs {@link #quietly}: the wake is recorded, to be made after it} */
    private boolean holdsBack() {
        return HeldWakes.holdBack(this);
    }

    /** The wake {@link #quietly} held back, if anything is still ready. */
    void wakeIfReady() {
        boolean ready;
        lock.lock();
        try {
            ready = queues.anyReady();
            if (ready) {
                signals++;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (ready) {
            onReady.run();
        }
    }
}
