package dev.workflowworker.opentelemetry;

import io.opentelemetry.api.trace.Span;

import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Attempt spans whose handler returned and whose outcome has not arrived yet, keyed by worker,
 * event and attempt: one worker runs one attempt of an event at a time, and the outcome of an
 * attempt always follows its handler's return.
 */
final class OpenSpans {

    private record Key(String workerId, String eventId, int attempt) {
    }

    private record Parked(Span span, long parkedAtNanos) {
    }

    private final Map<Key, Parked> spans = new ConcurrentHashMap<>();
    private final long staleNanos;
    private final AtomicLong nextSweepNanos;

    OpenSpans(Duration staleAfter) {
        this.staleNanos = staleAfter.toNanos();
        this.nextSweepNanos = new AtomicLong(System.nanoTime() + sweepEvery());
    }

    void park(String workerId, String eventId, int attempt, Span span) {
        long now = System.nanoTime();
        Parked previous = spans.put(new Key(workerId, eventId, attempt), new Parked(span, now));
        if (previous != null) {
            endUnknown(previous.span);
        }
        long due = nextSweepNanos.get();
        if (now - due >= 0 && nextSweepNanos.compareAndSet(due, now + sweepEvery())) {
            sweep(now);
        }
    }

    Span take(String workerId, String eventId, int attempt) {
        Parked p = spans.remove(new Key(workerId, eventId, attempt));
        return p == null ? null : p.span;
    }

    int size() {
        return spans.size();
    }

    private void sweep(long now) {
        for (Iterator<Parked> it = spans.values().iterator(); it.hasNext(); ) {
            Parked p = it.next();
            if (now - p.parkedAtNanos > staleNanos) {
                it.remove();
                endUnknown(p.span);
            }
        }
    }

    private long sweepEvery() {
        return Math.max(1, staleNanos / 4);
    }

    private static void endUnknown(Span span) {
        span.addEvent("outcome_unknown");
        span.end();
    }
}
