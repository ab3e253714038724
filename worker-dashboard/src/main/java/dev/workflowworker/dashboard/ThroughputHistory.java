package dev.workflowworker.dashboard;

import dev.workflowworker.api.HealthSnapshot;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A ring of the service's cumulative counters, one sample per interval; the chart shows the
 * differences. Sampling reads the health snapshot (counters kept in memory), so the history costs
 * nothing on Redis and nothing on the request path.
 */
final class ThroughputHistory {

    /** Counts in one interval, ending at {@code at}. */
    record Point(Instant at, long succeeded, long failed, long deadLettered, long retried) {
    }

    private record Sample(Instant at, long succeeded, long failed, long deadLettered, long retried) {
    }

    private final Sample[] ring;
    private int next;
    private int size;

    ThroughputHistory(int capacity) {
        if (capacity < 2) {
            throw new IllegalArgumentException("capacity must be >= 2: " + capacity);
        }
        this.ring = new Sample[capacity];
    }

    synchronized void record(HealthSnapshot h) {
        ring[next] = new Sample(h.timestamp(), h.eventsSucceeded(), h.eventsFailed(), h.eventsDeadLettered(),
                h.eventsRetried());
        next = (next + 1) % ring.length;
        size = Math.min(size + 1, ring.length);
    }

    synchronized List<Point> points() {
        List<Point> out = new ArrayList<>(Math.max(0, size - 1));
        int first = (next - size + ring.length) % ring.length;
        for (int i = 1; i < size; i++) {
            Sample prev = ring[(first + i - 1) % ring.length];
            Sample cur = ring[(first + i) % ring.length];
            // A counter that went down means the service was replaced; show nothing rather than a negative bar.
            out.add(new Point(cur.at(), Math.max(0, cur.succeeded() - prev.succeeded()),
                    Math.max(0, cur.failed() - prev.failed()), Math.max(0, cur.deadLettered() - prev.deadLettered()),
                    Math.max(0, cur.retried() - prev.retried())));
        }
        return out;
    }
}
