package dev.workflowworker.opentelemetry;

import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.WorkflowRuntime;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * OpenTelemetry tracing of workflow events, on the public API of the workers only.
 *
 * <ul>
 *   <li>{@link #publisher(EventPublisher)} wraps a publisher: each publish runs in a
 *       {@code PRODUCER} span and writes its context into the event's headers with the
 *       OpenTelemetry instance's propagators (W3C {@code traceparent} / {@code tracestate} with the
 *       usual SDK setup). {@link #inject(WorkflowEvent)} does the same for events published some
 *       other way. A producer outside this library puts the same keys into the {@code headers_json}
 *       field of the stream entry, e.g.
 *       {@code {"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}.</li>
 *   <li>{@link #runtime(WorkflowRuntime)} wraps the runtime: each processing attempt runs in a
 *       {@code CONSUMER} span named {@code process <destination>} with the messaging semantic
 *       conventions' attributes ({@code messaging.system}, {@code messaging.destination.name},
 *       {@code messaging.operation.name} / {@code .type} = {@code process},
 *       {@code messaging.message.id} = the event id) and {@code workflow.execution.id},
 *       {@code workflow.event.type}, {@code workflow.attempt}, {@code workflow.worker.id}. The
 *       producer's span is its parent or, with {@link Relation#LINK}, a link of a new trace. The
 *       span is current while the handler runs, so the handler's own spans nest under it.</li>
 *   <li>{@link #listener()} completes each attempt's span with its outcome: a span event
 *       {@code retry} (transient, retried in place), {@code retry_scheduled} (with
 *       {@code workflow.retry_at}), {@code dead_lettered} (with the category and reason),
 *       {@code lease_lost} or {@code released}; status {@code ERROR} for every failed attempt and
 *       lost lease; the attribute {@code workflow.outcome}. The span ends with that outcome, so a
 *       success's span includes its commit.</li>
 * </ul>
 *
 * Use the runtime wrapper and the listener together, on the same service:
 *
 * <pre>{@code
 * WorkflowTracing tracing = WorkflowTracing.builder(openTelemetry).destination("workflow:events:global").build();
 * WorkerService service = WorkerService.builder()
 *         .runtime(tracing.runtime(runtime))
 *         .listener(tracing.listener())
 *         .transport(transport)
 *         .build();
 * EventPublisher publisher = tracing.publisher(service.publisher());
 * }</pre>
 *
 * An attempt whose outcome never arrives (its worker crashed while committing) has its span ended
 * after {@link Builder#staleSpanTimeout}, with the event {@code outcome_unknown}. Thread-safe.
 */
public final class WorkflowTracing {

    /** The instrumentation scope name of the spans. */
    public static final String INSTRUMENTATION_NAME = "dev.workflowworker.opentelemetry";

    /** How an attempt's consumer span refers to the span that published the event. */
    public enum Relation {
        /** The producer span is the parent: publish and processing form one trace. */
        PARENT,
        /**
         * Each attempt starts a new trace with a link to the producer span, for hosts that keep
         * long-lived or fan-out flows out of the producer's trace.
         */
        LINK
    }

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final String destination;
    private final String system;
    private final String consumerGroup;
    private final Relation relation;
    private final OpenSpans openSpans;
    private final TracingListener listener;

    private WorkflowTracing(Builder b) {
        this.tracer = b.openTelemetry.getTracer(INSTRUMENTATION_NAME);
        this.propagator = b.openTelemetry.getPropagators().getTextMapPropagator();
        this.destination = b.destination;
        this.system = b.system;
        this.consumerGroup = b.consumerGroup;
        this.relation = b.relation;
        this.openSpans = new OpenSpans(b.staleSpanTimeout);
        this.listener = new TracingListener(openSpans);
    }

    /**
     * Starts a builder.
     *
     * @param openTelemetry the SDK (or {@code GlobalOpenTelemetry.get()} under the Java agent)
     * @return a builder with the defaults: destination {@code workflow:events:global}, system
     *     {@code redis}, {@link Relation#PARENT}
     */
    public static Builder builder(OpenTelemetry openTelemetry) {
        return new Builder(Objects.requireNonNull(openTelemetry, "openTelemetry"));
    }

    /**
     * Wraps a runtime so that each attempt runs in a consumer span; pair it with {@link #listener()}.
     *
     * @param runtime the host's runtime
     * @return the tracing runtime
     */
    public WorkflowRuntime runtime(WorkflowRuntime runtime) {
        return new TracingRuntime(Objects.requireNonNull(runtime, "runtime"), this);
    }

    /** {@return the listener that records each attempt's outcome on its span and ends it} */
    public WorkerListener listener() {
        return listener;
    }

    /**
     * Wraps a publisher so that each publish runs in a producer span whose context travels in the
     * event's headers. {@code publishAll} runs in one span for the whole batch.
     *
     * @param publisher the publisher, e.g. {@code service.publisher()}
     * @return the tracing publisher
     */
    public EventPublisher publisher(EventPublisher publisher) {
        return new TracingPublisher(Objects.requireNonNull(publisher, "publisher"), this);
    }

    /**
     * Returns the event with the current context ({@link Context#current()}) written into its
     * headers, for events published without {@link #publisher}. Existing headers are kept; the
     * propagator's own keys are replaced.
     *
     * @param event the event
     * @return a copy of the event carrying the current trace context
     */
    public WorkflowEvent inject(WorkflowEvent event) {
        return inject(Context.current(), event);
    }

    /**
     * Returns the event with the given context written into its headers.
     *
     * @param context the context to propagate
     * @param event   the event
     * @return a copy of the event carrying the context
     */
    public WorkflowEvent inject(Context context, WorkflowEvent event) {
        Map<String, String> headers = new LinkedHashMap<>(event.headers());
        propagator.inject(context, headers, HeaderCarrier.INSTANCE);
        return event.toBuilder().headers(headers).build();
    }

    /**
     * Reads the context a producer wrote into the event's headers.
     *
     * @param event the event
     * @return the producer's context on top of the root context; the root context when the
     *     headers carry none
     */
    public Context extract(WorkflowEvent event) {
        return propagator.extract(Context.root(), event.headers(), HeaderCarrier.INSTANCE);
    }

    Tracer tracer() {
        return tracer;
    }

    String destination() {
        return destination;
    }

    String system() {
        return system;
    }

    String consumerGroup() {
        return consumerGroup;
    }

    Relation relation() {
        return relation;
    }

    OpenSpans openSpans() {
        return openSpans;
    }

    /** Builds {@link WorkflowTracing}; not thread-safe. */
    public static final class Builder {
        private final OpenTelemetry openTelemetry;
        private String destination = "workflow:events:global";
        private String system = "redis";
        private String consumerGroup;
        private Relation relation = Relation.PARENT;
        private Duration staleSpanTimeout = Duration.ofMinutes(15);

        private Builder(OpenTelemetry openTelemetry) {
            this.openTelemetry = openTelemetry;
        }

        /**
         * Sets {@code messaging.destination.name} and the span names' suffix: the stream the
         * service reads ({@code WorkerService.stream()}).
         *
         * @param v the stream name; not blank
         * @return this builder
         */
        public Builder destination(String v) {
            this.destination = requireText(v, "destination");
            return this;
        }

        /**
         * Sets {@code messaging.system}.
         *
         * @param v the system, {@code redis} by default
         * @return this builder
         */
        public Builder system(String v) {
            this.system = requireText(v, "system");
            return this;
        }

        /**
         * Sets {@code messaging.consumer.group.name} on consumer spans; left out when not set.
         *
         * @param v the consumer group, e.g. {@code workflow-processors}
         * @return this builder
         */
        public Builder consumerGroup(String v) {
            this.consumerGroup = requireText(v, "consumerGroup");
            return this;
        }

        /**
         * Sets how a consumer span refers to its producer span.
         *
         * @param v parent (default) or link
         * @return this builder
         */
        public Builder relation(Relation v) {
            this.relation = Objects.requireNonNull(v, "relation");
            return this;
        }

        /**
         * Sets how long an attempt's span waits for its outcome before it is ended without one.
         * It must exceed the longest a handler runs plus its commit.
         *
         * @param v the timeout, 15 minutes by default; positive
         * @return this builder
         */
        public Builder staleSpanTimeout(Duration v) {
            if (v == null || v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException("staleSpanTimeout must be positive, was " + v);
            }
            this.staleSpanTimeout = v;
            return this;
        }

        /** {@return the tracing, ready to wrap runtimes and publishers} */
        public WorkflowTracing build() {
            return new WorkflowTracing(this);
        }

        private static String requireText(String v, String name) {
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException(name + " must not be blank");
            }
            return v;
        }
    }
}
