package dev.workflowworker.opentelemetry;

import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkflowEvent;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;

import java.util.ArrayList;
import java.util.List;

/** Publishes in a producer span and carries its context in each event's headers. */
final class TracingPublisher implements EventPublisher {

    private final EventPublisher delegate;
    private final WorkflowTracing tracing;

    TracingPublisher(EventPublisher delegate, WorkflowTracing tracing) {
        this.delegate = delegate;
        this.tracing = tracing;
    }

    @Override
    public String publish(WorkflowEvent event) {
        SpanBuilder builder = spanBuilder()
                .setAttribute(SpanAttributes.MESSAGE_ID, event.eventId())
                .setAttribute(SpanAttributes.EVENT_TYPE, event.eventType());
        if (event.executionId() != null) {
            builder.setAttribute(SpanAttributes.EXECUTION_ID, event.executionId());
        }
        Span span = builder.startSpan();
        try (Scope ignored = span.makeCurrent()) {
            String id = delegate.publish(tracing.inject(Context.current(), event));
            span.setAttribute(SpanAttributes.ENTRY_ID, id);
            return id;
        } catch (RuntimeException | Error e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            span.end();
        }
    }

    @Override
    public List<String> publishAll(List<WorkflowEvent> events) {
        Span span = spanBuilder().setAttribute(SpanAttributes.BATCH_COUNT, (long) events.size()).startSpan();
        try (Scope ignored = span.makeCurrent()) {
            Context context = Context.current();
            List<WorkflowEvent> traced = new ArrayList<>(events.size());
            for (WorkflowEvent e : events) {
                traced.add(tracing.inject(context, e));
            }
            return delegate.publishAll(traced);
        } catch (RuntimeException | Error e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            span.end();
        }
    }

    private SpanBuilder spanBuilder() {
        return tracing.tracer().spanBuilder("publish " + tracing.destination())
                .setSpanKind(SpanKind.PRODUCER)
                .setAttribute(SpanAttributes.MESSAGING_SYSTEM, tracing.system())
                .setAttribute(SpanAttributes.DESTINATION, tracing.destination())
                .setAttribute(SpanAttributes.OPERATION_NAME, "publish")
                .setAttribute(SpanAttributes.OPERATION_TYPE, "send");
    }
}
