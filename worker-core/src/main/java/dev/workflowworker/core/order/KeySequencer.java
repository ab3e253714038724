package dev.workflowworker.core.order;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
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

    private enum State { QUEUED, DELAYED, READY, OUT }

    private static final class Entry {
        final String key;
        final int partition;
        Delivery delivery;
        State state = State.QUEUED;
        long dueAtMillis;
        /** When a retry first held this entry, in wall millis; 0 when it never was. */
        long heldSinceMillis;

        Entry(String key, int partition, Delivery delivery) {
            this.key = key;
            this.partition = partition;
            this.delivery = delivery;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final TimeSource time;
    private final Map<String, ArrayDeque<Entry>> keys = new HashMap<>();
    private final Map<String, Entry> byId = new HashMap<>();
    private final ArrayDeque<Entry> ready = new ArrayDeque<>();
    private final PriorityQueue<Entry> delayed = new PriorityQueue<>(Comparator.comparingLong(e -> e.dueAtMillis));
    private final Map<Integer, int[]> counts = new HashMap<>();
    private volatile Runnable onReady = () -> { };
    private long signals;

    /**
     * Creates an empty sequencer.
     *
     * @param time wall time decides when a held delivery is due, as the transport's retry times are wall times
     */
    public KeySequencer(TimeSource time) {
        this.time = Objects.requireNonNull(time, "time");
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
            if (byId.containsKey(d.id())) {
                return false;
            }
            Entry e = new Entry(keyOf(d), partition, d);
            e.dueAtMillis = dueAtMillis;
            if (dueAtMillis > 0) {
                e.heldSinceMillis = time.wallMillis();
            }
            byId.put(d.id(), e);
            counts(partition)[0]++;
            ArrayDeque<Entry> q = keys.computeIfAbsent(e.key, k -> new ArrayDeque<>(2));
            q.addLast(e);
            signal = q.size() == 1 && promote(e, time.wallMillis());
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
            long now = time.wallMillis();
            Entry due;
            while ((due = delayed.peek()) != null && due.dueAtMillis <= now) {
                delayed.poll();
                due.state = State.READY;
                ready.addLast(due);
            }
            if (ready.isEmpty()) {
                return List.of();
            }
            List<Taken> out = new ArrayList<>(Math.min(max, ready.size()));
            while (out.size() < max && !ready.isEmpty()) {
                Entry e = ready.pollFirst();
                e.state = State.OUT;
                counts(e.partition)[1]++;
                out.add(new Taken(e.delivery, e.partition));
            }
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
            if (!ready.isEmpty()) {
                return;
            }
            long limit = maxNanos;
            Entry due = delayed.peek();
            if (due != null) {
                limit = Math.min(limit, TimeUnit.MILLISECONDS.toNanos(Math.max(0, due.dueAtMillis - time.wallMillis())));
            }
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
            Entry e = byId.remove(id);
            if (e == null) {
                return false;
            }
            signal = remove(e);
        } finally {
            lock.unlock();
        }
        if (signal) {
            signalled();
        }
        return true;
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
            Entry e = byId.get(id);
            if (e == null) {
                return false;
            }
            if (e.state == State.OUT) {
                counts(e.partition)[1]--;
            } else if (e.state == State.READY) {
                ready.remove(e);
            } else if (e.state == State.DELAYED) {
                delayed.remove(e);
            }
            Delivery d = e.delivery;
            e.delivery = new Delivery(d.id(), d.event(), attempt, d.fields(), d.decodeError());
            e.dueAtMillis = dueAtMillis;
            if (e.heldSinceMillis == 0) {
                e.heldSinceMillis = time.wallMillis();
            }
            e.state = State.DELAYED;
            delayed.add(e);
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
            Entry e = byId.get(id);
            if (e == null || e.state != State.OUT) {
                return false;
            }
            counts(e.partition)[1]--;
            e.state = State.READY;
            ready.addFirst(e);
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
            int[] c = counts.get(partition);
            if (c == null) {
                return 0;
            }
            for (Iterator<Entry> it = byId.values().iterator(); it.hasNext(); ) {
                Entry e = it.next();
                if (e.partition != partition || e.state == State.OUT) {
                    continue;
                }
                it.remove();
                remove(e);
            }
            return c[1];
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
            int[] c = counts.get(partition);
            return c == null ? 0 : c[1];
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
            wakeWaiters();
        } finally {
            lock.unlock();
        }
    }

    /** {@return true when a delivery may be taken now} */
    public boolean hasReady() {
        lock.lock();
        try {
            Entry due = delayed.peek();
            return !ready.isEmpty() || (due != null && due.dueAtMillis <= time.wallMillis());
        } finally {
            lock.unlock();
        }
    }

    /** {@return milliseconds until the earliest held delivery is due; 0 if one is, {@code Long.MAX_VALUE} if none is held} */
    public long millisUntilNextDue() {
        lock.lock();
        try {
            Entry due = delayed.peek();
            return due == null ? Long.MAX_VALUE : Math.max(0, due.dueAtMillis - time.wallMillis());
        } finally {
            lock.unlock();
        }
    }

    /** {@return how many deliveries are here, out or not} */
    public int size() {
        lock.lock();
        try {
            return byId.size();
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
            long now = time.wallMillis();
            int n = 0;
            long oldest = Long.MAX_VALUE;
            for (Entry e : delayed) {
                if (e.heldSinceMillis > 0 && e.dueAtMillis > now) {
                    n++;
                    oldest = Math.min(oldest, e.heldSinceMillis);
                }
            }
            return new Holds(n, n == 0 ? 0 : Math.max(0, now - oldest));
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

    /** Removes an entry that is no longer in {@code byId}; returns true when a successor became ready. */
    private boolean remove(Entry e) {
        int[] c = counts(e.partition);
        c[0]--;
        if (e.state == State.OUT) {
            c[1]--;
        } else if (e.state == State.READY) {
            ready.remove(e);
        } else if (e.state == State.DELAYED) {
            delayed.remove(e);
        }
        if (c[0] == 0) {
            counts.remove(e.partition);
        }
        ArrayDeque<Entry> q = keys.get(e.key);
        boolean wasHead = q.peekFirst() == e;
        if (wasHead) {
            q.pollFirst();
        } else {
            q.remove(e);
        }
        if (q.isEmpty()) {
            keys.remove(e.key);
            return false;
        }
        return wasHead && promote(q.peekFirst(), time.wallMillis());
    }

    /** Makes a new head ready or delayed; true when it is ready now. */
    private boolean promote(Entry head, long now) {
        if (head.dueAtMillis > now) {
            head.state = State.DELAYED;
            delayed.add(head);
            wakeWaiters();
            return false;
        }
        head.state = State.READY;
        ready.addLast(head);
        wakeWaiters();
        return true;
    }

    /** Under the lock: wakes {@link #await} callers, which re-check what changed. */
    private void wakeWaiters() {
        signals++;
        changed.signalAll();
    }

    private int[] counts(int partition) {
        return counts.computeIfAbsent(partition, p -> new int[2]);
    }

    private void signalled() {
        onReady.run();
    }
}
