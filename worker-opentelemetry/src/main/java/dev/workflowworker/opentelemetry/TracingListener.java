package dev.workflowworker.opentelemetry;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.WorkerListener;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;

import java.util.Locale;

/** Records each attempt's outcome on its parked span and ends it. */
final class TracingListener implements WorkerListener {

    private final OpenSpans openSpans;

    TracingListener(OpenSpans openSpans) {
        this.openSpans = openSpans;
    }

    @Override
    public void onOutcome(EventOutcome o) {
        if (o.event() == null) {
            return; // a malformed entry: nothing was run, so there is no span
        }
        Span span = openSpans.take(o.workerId(), o.event().eventId(), o.attempt());
        if (span == null) {
            return; // duplicates, lock contention and releases before a run have no attempt span
        }
        String kind = o.kind().name().toLowerCase(Locale.ROOT);
        span.setAttribute(SpanAttributes.OUTCOME, kind);
        span.setAttribute(SpanAttributes.ENTRY_ID, o.deliveryId());
        if (o.category() != null) {
            span.setAttribute(SpanAttributes.ERROR_CATEGORY, o.category().name().toLowerCase(Locale.ROOT));
        }
        switch (o.kind()) {
            case SUCCEEDED, DUPLICATE, LOCK_CONTENDED -> {
                // the span's status stays as the handler left it
            }
            case RETRYING -> span.addEvent("retry", failure(o).build());
            case RETRY_SCHEDULED -> {
                AttributesBuilder a = failure(o);
                if (o.retryAt() != null) {
                    a.put(SpanAttributes.RETRY_AT, o.retryAt().toString());
                }
                span.addEvent("retry_scheduled", a.build());
            }
            case DEAD_LETTERED -> {
                span.addEvent("dead_lettered", failure(o).build());
                span.setStatus(StatusCode.ERROR, "dead-lettered: " + message(o));
            }
            case LEASE_LOST -> {
                span.addEvent("lease_lost");
                span.setStatus(StatusCode.ERROR, "lease lost: the result was not committed");
            }
            case RELEASED -> span.addEvent("released");
        }
        span.end();
    }

    private static AttributesBuilder failure(EventOutcome o) {
        AttributesBuilder a = Attributes.builder();
        if (o.category() != null) {
            a.put(SpanAttributes.ERROR_CATEGORY, o.category().name().toLowerCase(Locale.ROOT));
        }
        if (o.error() != null) {
            a.put(SpanAttributes.REASON, message(o));
        }
        return a;
    }

    private static String message(EventOutcome o) {
        if (o.error() == null) {
            return o.category() == null ? "" : o.category().name().toLowerCase(Locale.ROOT);
        }
        String m = o.error().getMessage();
        return m != null ? m : o.error().getClass().getName();
    }
}
