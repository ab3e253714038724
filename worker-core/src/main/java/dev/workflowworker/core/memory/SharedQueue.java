package dev.workflowworker.core.memory;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The unordered transport's one queue: entries ready to read, and retries waiting for their due
 * time, which the first read to find them due makes ready. Events of one key may come out of
 * order, as on the Redis transport without partitions.
 */
final class SharedQueue {

    private record Due(long dueMillis, long seq) implements Comparable<Due> {
        @Override
        public int compareTo(Due o) {
            int c = Long.compare(dueMillis, o.dueMillis);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final TimeSource clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Delivery> ready = new ArrayDeque<>();
    private final TreeMap<Due, Delivery> scheduled = new TreeMap<>();
    private long seq;
    /** Bumped by every add and wake: a waiting poll returns when it moves. */
    private long signals;

    SharedQueue(TimeSource clock) {
        this.clock = clock;
    }

    void add(Delivery d) {
        lock.lock();
        try {
            ready.addLast(d);
            signalOne();
        } finally {
            lock.unlock();
        }
    }

    void schedule(Delivery d, long dueMillis) {
        lock.lock();
        try {
            if (dueMillis <= clock.wallMillis()) {
                ready.addLast(d);
            } else {
                scheduled.put(new Due(dueMillis, ++seq), d);
            }
            signalOne();
        } finally {
            lock.unlock();
        }
    }

    /** Cuts waiting polls short, so their callers look again at what the queue does not know of. */
    void wake() {
        lock.lock();
        try {
            signal();
        } finally {
            lock.unlock();
        }
    }

    int readyCount() {
        lock.lock();
        try {
            return ready.size();
        } finally {
            lock.unlock();
        }
    }

    int scheduledCount() {
        lock.lock();
        try {
            return scheduled.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Up to {@code max} ready entries, waiting at most {@code maxWait} (or until a retry is due,
     * or a wake) for the first.
     */
    List<Delivery> poll(int max, Duration maxWait) throws InterruptedException {
        return poll(max, maxWait, signals());
    }

    /** {@return a count of adds and wakes so far, to pass to {@link #poll(int, Duration, long)}} */
    long signals() {
        lock.lock();
        try {
            return signals;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Like {@link #poll(int, Duration)}, but does not wait if an add or wake came since {@code seen}
     * was taken from {@link #signals()}, so a wake that came while the caller computed
     * {@code maxWait} is not lost.
     */
    List<Delivery> poll(int max, Duration maxWait, long seen) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            promoteDue();
            if (ready.isEmpty()) {
                long limit = Math.min(nanos(maxWait), TimeUnit.MILLISECONDS.toNanos(millisUntilNextDue()));
                while (limit > 0 && seen == signals) {
                    limit = changed.awaitNanos(limit);
                }
                promoteDue();
            }
            List<Delivery> out = new ArrayList<>(Math.min(max, Math.max(1, ready.size())));
            while (out.size() < max && !ready.isEmpty()) {
                out.add(ready.pollFirst());
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** A wake: every waiting poll returns, to look again at what the queue does not know of. */
    private void signal() {
        signals++;
        changed.signalAll();
    }

    /** One entry more: one waiting poll is enough to take it, as a blocking queue would hand it over. */
    private void signalOne() {
        signals++;
        changed.signal();
    }

    private static long nanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE; // centuries: as good as forever
        }
    }

    private void promoteDue() {
        long now = clock.wallMillis();
        Map.Entry<Due, Delivery> first;
        while ((first = scheduled.firstEntry()) != null && first.getKey().dueMillis <= now) {
            scheduled.pollFirstEntry();
            ready.addLast(first.getValue());
        }
    }

    private long millisUntilNextDue() {
        Map.Entry<Due, Delivery> first = scheduled.firstEntry();
        return first == null ? Long.MAX_VALUE / 1_000_000 : Math.max(0, first.getKey().dueMillis - clock.wallMillis());
    }
}
