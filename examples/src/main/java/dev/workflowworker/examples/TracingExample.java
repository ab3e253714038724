package dev.workflowworker.examples;

// BEGIN TRACING GUIDE EXAMPLE (docs/tracing.md)
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.opentelemetry.WorkflowTracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public class TracingExample {

    public static void main(String[] args) throws Exception {
        // the host's SDK; in production an OTLP exporter, here spans are kept in memory to print them
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();

        AtomicInteger attempts = new AtomicInteger();
        ActionRuntime runtime = ActionRuntime.builder()
                .on("INVOICE_DUE", ctx -> {
                    // the attempt's span is current: the handler's own spans nest under it
                    Span charge = otel.getTracer("billing").spanBuilder("charge card").startSpan();
                    charge.end();
                    if (attempts.incrementAndGet() == 1) {
                        throw new RecoverableWorkflowException("payment gateway busy", Duration.ofMillis(100));
                    }
                })
                .build();

        CountDownLatch done = new CountDownLatch(1);
        WorkflowTracing tracing = WorkflowTracing.builder(otel).destination("workflow:events:global").build();
        try (WorkerService service = WorkerService.builder()
                .runtime(tracing.runtime(runtime))          // a consumer span per attempt
                .listener(tracing.listener())                // outcomes as span events, then the span ends
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome outcome) {
                        if (outcome.kind() == EventOutcome.Kind.SUCCEEDED) {
                            done.countDown();
                        }
                    }
                })
                .initialBackoff(Duration.ofMillis(100))
                .pollInterval(Duration.ofMillis(100))
                .build()) {
            service.start();
            EventPublisher publisher = tracing.publisher(service.publisher()); // traceparent into the headers
            Span request = otel.getTracer("http").spanBuilder("POST /invoices").startSpan();
            try (Scope ignored = request.makeCurrent()) {
                publisher.publish(WorkflowEvent.builder("INVOICE_DUE").executionId("inv-1").build());
            } finally {
                request.end();
            }
            done.await(10, TimeUnit.SECONDS);
        }
        for (SpanData span : spans.getFinishedSpanItems()) {
            System.out.println(span.getTraceId() + " " + span.getKind() + " " + span.getName()
                    + " " + span.getStatus().getStatusCode() + " " + span.getEvents().stream().map(e -> e.getName()).toList());
        }
        otel.close();
    }
}
// END TRACING GUIDE EXAMPLE
