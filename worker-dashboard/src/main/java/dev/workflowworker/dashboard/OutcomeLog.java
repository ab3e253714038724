package dev.workflowworker.dashboard;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.WorkerListener;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** The most recent outcomes, newest first, kept from the service's listener callbacks. */
final class OutcomeLog implements WorkerListener {

    /** One outcome, reduced to what the page shows. */
    record Row(long at, String kind, String workerId, String eventId, String eventType, String tenant,
               int attempt, String category, String error, double processingMs) {
    }

    private static final int MAX_ERROR = 300;

    private final int capacity;
    private final Clock clock;
    private final Deque<Row> rows = new ArrayDeque<>();

    OutcomeLog(int capacity, Clock clock) {
        this.capacity = capacity;
        this.clock = clock;
    }

    @Override
    public void onOutcome(EventOutcome o) {
        // Lock contention is a redelivery without an attempt: it would crowd real outcomes out of the list.
        if (o.kind() == EventOutcome.Kind.LOCK_CONTENDED) {
            return;
        }
        String error = o.error() == null ? null : String.valueOf(o.error().getMessage());
        Row row = new Row(clock.millis(), o.kind().name(), o.workerId(),
                o.event() == null ? o.deliveryId() : o.event().eventId(),
                o.event() == null ? "(malformed)" : o.event().eventType(),
                o.event() == null ? null : o.event().tenant(), o.attempt(),
                o.category() == null ? null : o.category().wireValue(), truncate(error),
                o.processingTime().toNanos() / 1e6);
        synchronized (rows) {
            rows.addFirst(row);
            while (rows.size() > capacity) {
                rows.removeLast();
            }
        }
    }

    List<Row> rows() {
        synchronized (rows) {
            return new ArrayList<>(rows);
        }
    }

    static String truncate(String s) {
        return s == null || s.length() <= MAX_ERROR ? s : s.substring(0, MAX_ERROR) + "…";
    }
}
