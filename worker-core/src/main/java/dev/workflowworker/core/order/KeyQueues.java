package dev.workflowworker.core.order;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The per-key queues behind a {@link KeySequencer}: each key's deliveries in stream order, the
 * heads that may start now ({@code ready}) or at a due time ({@code delayed}), and per partition
 * how many are here and how many are out. Only a key's head is ever ready, delayed or out, which
 * is what keeps one delivery per key out at a time.
 *
 * <p>Not thread-safe: the sequencer's lock guards every call. Calls do not wake anyone: they
 * record what changed ({@link #takeWake}), and the sequencer wakes its waiters once per call, under
 * its lock, however many heads the call made ready.
 */
final class KeyQueues {

    enum State { QUEUED, DELAYED, READY, OUT }

    static final class Entry {
        final String key;
        final int partition;
        /**
         * Its key's queue, so that settling it needs no lookup of the key: on the settling thread that
         * lookup was a cache miss per event, into a map another thread fills (docs/BENCHMARKS.md,
         * "JVM path").
         */
        ArrayDeque<Entry> queue;
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

    /** What a wake after the current call is for: nothing, a delivery made ready (which {@link KeySequencer#quietly} may hold back), or a changed due time. */
    enum Wake { NONE, ONE, ALL }

    private final TimeSource time;
    /** Set by the calls that make a head ready (ONE) or change a due time (ALL); read and reset by {@link #takeWake}. */
    private Wake wake = Wake.NONE;
    private final Map<String, ArrayDeque<Entry>> keys = new HashMap<>();
    private final Map<String, Entry> byId = new HashMap<>();
    private final ArrayDeque<Entry> ready = new ArrayDeque<>();
    private final PriorityQueue<Entry> delayed = new PriorityQueue<>(Comparator.comparingLong(e -> e.dueAtMillis));
    /** Per partition (the index): how many are here and how many are out. */
    private int[][] counts = new int[16][];
    /** Deliveries out now, over every partition. */
    private int outCount;

    KeyQueues(TimeSource time) {
        this.time = time;
    }

    /** {@return what the calls since the last one changed, for the sequencer's wake} */
    Wake takeWake() {
        Wake w = wake;
        wake = Wake.NONE;
        return w;
    }

    private void wakeOne() {
        if (wake == Wake.NONE) {
            wake = Wake.ONE;
        }
    }

    private void wakeAll() {
        wake = Wake.ALL;
    }

    /** {@return the entry of a delivery id, or null when it is not here} */
    Entry get(String id) {
        return byId.get(id);
    }

    /** Adds a delivery whose id is not here yet behind its key; true when it is ready now. */
    boolean add(String key, int partition, Delivery d, long dueAtMillis) {
        Entry e = new Entry(key, partition, d);
        e.dueAtMillis = dueAtMillis;
        if (dueAtMillis > 0) {
            e.heldSinceMillis = time.wallMillis();
        }
        byId.put(d.id(), e);
        counts(partition)[0]++;
        ArrayDeque<Entry> q = keys.computeIfAbsent(e.key, k -> new ArrayDeque<>(2));
        e.queue = q;
        q.addLast(e);
        return q.size() == 1 && promote(e);
    }

    /** Takes up to {@code max} ready heads, the delayed ones that came due first moved behind them. */
    List<KeySequencer.Taken> take(int max) {
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
        List<KeySequencer.Taken> out = new ArrayList<>(Math.min(max, ready.size()));
        while (out.size() < max && !ready.isEmpty()) {
            Entry e = ready.pollFirst();
            e.state = State.OUT;
            counts(e.partition)[1]++;
            outCount++;
            out.add(new KeySequencer.Taken(e.delivery, e.partition));
        }
        return out;
    }

    /** Forgets a settled entry; true when its key's next delivery became ready. */
    boolean settle(Entry e) {
        byId.remove(e.delivery.id());
        return remove(e);
    }

    /** Puts an entry back at its key's head, delayed until {@code dueAtMillis}, for {@code attempt}. */
    void hold(Entry e, long dueAtMillis, int attempt) {
        if (e.state == State.OUT) {
            counts(e.partition)[1]--;
            outCount--;
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
        // Every waiter bounds its wait by the earliest due time, which this may have moved.
        wakeAll();
    }

    /** Makes an entry that is out the next to take, ahead of other keys; false if it is not out. */
    boolean handBack(Entry e) {
        if (e.state != State.OUT) {
            return false;
        }
        counts(e.partition)[1]--;
        outCount--;
        e.state = State.READY;
        ready.addFirst(e);
        // Only made ready: under KeySequencer#quietly this wake is held back like a commit's.
        wakeOne();
        return true;
    }

    /** Forgets the entries of a partition that are not out; returns how many of it are out. */
    int dropPartition(int partition) {
        int[] c = partition < counts.length ? counts[partition] : null;
        if (c == null || c[0] == 0) {
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
    }

    /** {@return how many deliveries are out, over every partition} */
    int outTotal() {
        return outCount;
    }

    /** {@return how many deliveries of a partition are here and not out: ready, delayed or queued behind their key's head} */
    int waiting(int partition) {
        int[] c = partition < counts.length ? counts[partition] : null;
        return c == null ? 0 : c[0] - c[1];
    }

    /** {@return how many deliveries of a partition are out} */
    int outstanding(int partition) {
        int[] c = partition < counts.length ? counts[partition] : null;
        return c == null ? 0 : c[1];
    }

    /** {@return true when a head is ready, not counting delayed ones that came due} */
    boolean anyReady() {
        return !ready.isEmpty();
    }

    /** {@return true when a delivery may be taken now} */
    boolean hasReady() {
        Entry due = delayed.peek();
        return !ready.isEmpty() || (due != null && due.dueAtMillis <= time.wallMillis());
    }

    /** {@return milliseconds until the earliest delayed head is due; 0 if one is, {@code Long.MAX_VALUE} if none} */
    long millisUntilNextDue() {
        Entry due = delayed.peek();
        return due == null ? Long.MAX_VALUE : Math.max(0, due.dueAtMillis - time.wallMillis());
    }

    /** {@return how many deliveries are here, out or not} */
    int size() {
        return byId.size();
    }

    /** {@return the keys a retry holds now (not yet due) and how long the longest has been held} */
    KeySequencer.Holds holds() {
        long now = time.wallMillis();
        int n = 0;
        long oldest = Long.MAX_VALUE;
        for (Entry e : delayed) {
            if (e.heldSinceMillis > 0 && e.dueAtMillis > now) {
                n++;
                oldest = Math.min(oldest, e.heldSinceMillis);
            }
        }
        return new KeySequencer.Holds(n, n == 0 ? 0 : Math.max(0, now - oldest));
    }

    /** Removes an entry that is no longer in {@code byId}; returns true when a successor became ready. */
    private boolean remove(Entry e) {
        int[] c = counts(e.partition);
        c[0]--;
        if (e.state == State.OUT) {
            c[1]--;
            outCount--;
        } else if (e.state == State.READY) {
            ready.remove(e);
        } else if (e.state == State.DELAYED) {
            delayed.remove(e);
        }
        ArrayDeque<Entry> q = e.queue;
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
        return wasHead && promote(q.peekFirst());
    }

    /**
     * Makes a new head ready or delayed; true when it is ready now. Only a head with a due time
     * reads the clock: most have none, and this runs once per event on the reading thread.
     */
    private boolean promote(Entry head) {
        if (head.dueAtMillis > 0 && head.dueAtMillis > time.wallMillis()) {
            head.state = State.DELAYED;
            delayed.add(head);
            wakeAll();
            return false;
        }
        head.state = State.READY;
        ready.addLast(head);
        wakeOne();
        return true;
    }

    /** A partition's counts, made on first use and kept (a partition's count is one small array). */
    private int[] counts(int partition) {
        if (partition >= counts.length) {
            counts = Arrays.copyOf(counts, Math.max(partition + 1, counts.length * 2));
        }
        int[] c = counts[partition];
        if (c == null) {
            c = new int[2];
            counts[partition] = c;
        }
        return c;
    }
}
