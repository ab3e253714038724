package dev.workflowworker.core.memory;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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
    private final LinkedBlockingQueue<Delivery> ready = new LinkedBlockingQueue<>();
    private final ConcurrentSkipListMap<Due, Delivery> scheduled = new ConcurrentSkipListMap<>();
    private final AtomicLong seq = new AtomicLong();

    SharedQueue(TimeSource clock) {
        this.clock = clock;
    }

    void add(Delivery d) {
        ready.add(d);
    }

    void schedule(Delivery d, long dueMillis) {
        if (dueMillis <= clock.wallMillis()) {
            ready.add(d);
        } else {
            scheduled.put(new Due(dueMillis, seq.incrementAndGet()), d);
        }
    }

    int readyCount() {
        return ready.size();
    }

    int scheduledCount() {
        return scheduled.size();
    }

    /** Up to {@code max} ready entries, waiting at most {@code maxWait} (or until a retry is due) for the first. */
    List<Delivery> poll(int max, Duration maxWait) throws InterruptedException {
        promoteDue();
        List<Delivery> out = new ArrayList<>(Math.min(max, 64));
        Delivery first = ready.poll();
        if (first == null) {
            long wait = Math.min(maxWait.toMillis(), millisUntilNextDue());
            first = ready.poll(Math.max(1, wait), TimeUnit.MILLISECONDS);
            if (first == null) {
                promoteDue();
                first = ready.poll();
            }
            if (first == null) {
                return out;
            }
        }
        out.add(first);
        if (max > 1) {
            ready.drainTo(out, max - 1);
        }
        return out;
    }

    private void promoteDue() {
        long now = clock.wallMillis();
        while (true) {
            Map.Entry<Due, Delivery> first = scheduled.firstEntry();
            if (first == null || first.getKey().dueMillis > now) {
                return;
            }
            // remove() succeeds for exactly one of several racing consumers.
            if (scheduled.remove(first.getKey()) != null) {
                ready.add(first.getValue());
            }
        }
    }

    private long millisUntilNextDue() {
        Map.Entry<Due, Delivery> first = scheduled.firstEntry();
        return first == null ? Long.MAX_VALUE : Math.max(0, first.getKey().dueMillis - clock.wallMillis());
    }
}
