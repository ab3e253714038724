package dev.workflowworker.opentelemetry;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.WorkflowRuntime;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;

/** Runs each attempt in a consumer span, current while the host's runtime runs. */
final class TracingRuntime implements WorkflowRuntime {

    private final WorkflowRuntime delegate;
    private final WorkflowTracing tracing;

    TracingRuntime(WorkflowRuntime delegate, WorkflowTracing tracing) {
        this.delegate = delegate;
        this.tracing = tracing;
    }

    @Override
    public void process(EventContext context) throws Exception {
        WorkflowEvent event = context.event();
        Context producer = tracing.extract(event);
        SpanBuilder builder = tracing.tracer().spanBuilder("process " + tracing.destination())
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute(SpanAttributes.MESSAGING_SYSTEM, tracing.system())
                .setAttribute(SpanAttributes.DESTINATION, tracing.destination())
                .setAttribute(SpanAttributes.OPERATION_NAME, "process")
                .setAttribute(SpanAttributes.OPERATION_TYPE, "process")
                .setAttribute(SpanAttributes.MESSAGE_ID, event.eventId())
                .setAttribute(SpanAttributes.EVENT_TYPE, event.eventType())
                .setAttribute(SpanAttributes.ATTEMPT, (long) context.attempt())
                .setAttribute(SpanAttributes.WORKER_ID, context.workerId());
        if (tracing.consumerGroup() != null) {
            builder.setAttribute(SpanAttributes.CONSUMER_GROUP, tracing.consumerGroup());
        }
        if (event.executionId() != null) {
            builder.setAttribute(SpanAttributes.EXECUTION_ID, event.executionId());
        }
        if (event.tenant() != null) {
            builder.setAttribute(SpanAttributes.TENANT, event.tenant());
        }
        SpanContext producerSpan = Span.fromContext(producer).getSpanContext();
        if (tracing.relation() == WorkflowTracing.Relation.LINK) {
            builder.setNoParent();
            if (producerSpan.isValid()) {
                builder.addLink(producerSpan);
            }
        } else {
            // The root context when the headers carry none: a handler thread's leftover context
            // must never become the parent of an unrelated event.
            builder.setParent(producer);
        }
        Span span = builder.startSpan();
        try (Scope ignored = producer.with(span).makeCurrent()) {
            delegate.process(context);
        } catch (Exception | Error e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            // Ended by the listener when the outcome is known (after the commit, for a success).
            tracing.openSpans().park(context.workerId(), event.eventId(), context.attempt(), span);
        }
    }
}
