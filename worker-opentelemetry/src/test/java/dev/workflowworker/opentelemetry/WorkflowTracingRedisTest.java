package dev.workflowworker.opentelemetry;

import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.XAddParams;

import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Traces across a real Redis stream, exported to the SDK's in-memory exporter. */
@ExtendWith(RedisServerExtension.class)
class WorkflowTracingRedisTest {

    private static final String STREAM = "traced:events";

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private OpenTelemetrySdk otel;
    private WorkerService service;

    @BeforeEach
    void sdk() {
        otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
    }

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
        otel.close();
    }

    private WorkflowTracing start(RedisServer redis, WorkflowTracing.Relation relation, WorkflowRuntime runtime) {
        RedisOptions options = redis.options().stream(STREAM).build();
        WorkflowTracing tracing = WorkflowTracing.builder(otel).destination(STREAM).consumerGroup(options.group())
                .relation(relation).build();
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(tracing.runtime(runtime))
                .listener(tracing.listener())
                .workerCount(1)
                .pollInterval(Duration.ofMillis(100))
                .initialBackoff(Duration.ofMillis(50))
                .maxRetries(2)
                .build();
        service.start();
        return tracing;
    }

    private List<SpanData> awaitSpans(int count) {
        Await.until(Duration.ofSeconds(10), () -> exporter.getFinishedSpanItems().size() >= count,
                count + " finished spans");
        return exporter.getFinishedSpanItems();
    }

    @Test
    void oneTraceFromPublishThroughARetryToSuccess(RedisServer redis) {
        Tracer handlerTracer = otel.getTracer("host");
        AtomicInteger calls = new AtomicInteger();
        WorkflowTracing tracing = start(redis, WorkflowTracing.Relation.PARENT, ctx -> {
            Span own = handlerTracer.spanBuilder("charge card").startSpan();
            own.end();
            if (calls.incrementAndGet() == 1) {
                throw new RecoverableWorkflowException("gateway busy", Duration.ofMillis(50));
            }
        });

        Span request = otel.getTracer("host").spanBuilder("HTTP POST /tickets").startSpan();
        try (var ignored = request.makeCurrent()) {
            tracing.publisher(service.publisher()).publish(WorkflowEvent.builder("TICKET_CREATED")
                    .executionId("exec-1").tenant("acme").build());
        } finally {
            request.end();
        }

        // request, publish, two attempts, and the handler's own span in each attempt
        List<SpanData> spans = awaitSpans(6);
        String traceId = request.getSpanContext().getTraceId();
        assertTrue(spans.stream().allMatch(s -> s.getTraceId().equals(traceId)), "one trace: " + spans);

        SpanData publish = only(spans, SpanKind.PRODUCER);
        assertEquals("publish " + STREAM, publish.getName());
        assertEquals(request.getSpanContext().getSpanId(), publish.getParentSpanId());

        List<SpanData> attempts = spans.stream().filter(s -> s.getKind() == SpanKind.CONSUMER)
                .sorted(Comparator.comparing(s -> s.getAttributes().get(SpanAttributes.ATTEMPT)))
                .collect(Collectors.toList());
        assertEquals(2, attempts.size(), spans.toString());
        for (SpanData attempt : attempts) {
            assertEquals("process " + STREAM, attempt.getName());
            assertEquals(publish.getSpanId(), attempt.getParentSpanId(), "the producer span is the parent");
            assertEquals("redis", attempt.getAttributes().get(AttributeKey.stringKey("messaging.system")));
            assertEquals(STREAM, attempt.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")));
            assertEquals("process", attempt.getAttributes().get(AttributeKey.stringKey("messaging.operation.type")));
            assertEquals("workflow-processors",
                    attempt.getAttributes().get(AttributeKey.stringKey("messaging.consumer.group.name")));
            assertEquals(publish.getAttributes().get(SpanAttributes.MESSAGE_ID),
                    attempt.getAttributes().get(AttributeKey.stringKey("messaging.message.id")));
            assertEquals("exec-1", attempt.getAttributes().get(AttributeKey.stringKey("workflow.execution.id")));
        }
        SpanData first = attempts.get(0);
        SpanData second = attempts.get(1);
        assertEquals(1L, first.getAttributes().get(SpanAttributes.ATTEMPT));
        assertEquals(StatusCode.ERROR, first.getStatus().getStatusCode());
        assertEquals("retry_scheduled", eventNames(first).get(eventNames(first).size() - 1));
        assertTrue(eventNames(first).contains("exception"), "the failure is recorded: " + eventNames(first));
        assertEquals("retry_scheduled", first.getAttributes().get(SpanAttributes.OUTCOME));
        assertEquals(2L, second.getAttributes().get(SpanAttributes.ATTEMPT));
        assertEquals(StatusCode.UNSET, second.getStatus().getStatusCode());
        assertEquals("succeeded", second.getAttributes().get(SpanAttributes.OUTCOME));

        List<SpanData> own = spans.stream().filter(s -> s.getName().equals("charge card")).collect(Collectors.toList());
        assertEquals(2, own.size());
        assertEquals(List.of(first.getSpanId(), second.getSpanId()),
                own.stream().map(SpanData::getParentSpanId).sorted(Comparator.comparing(id -> id.equals(first.getSpanId()) ? 0 : 1))
                        .collect(Collectors.toList()),
                "the handler's spans nest under its attempt's span");
        assertEquals(0, tracing.openSpans().size(), "every attempt span was ended by its outcome");
    }

    @Test
    void aDeadLetteredEventEndsItsSpanWithTheErrorAndTheDeadLetterEvent(RedisServer redis) {
        WorkflowTracing tracing = start(redis, WorkflowTracing.Relation.PARENT, ctx -> {
            throw new PermanentWorkflowException("customer C-9 does not exist");
        });

        tracing.publisher(service.publisher()).publish(WorkflowEvent.builder("INVOICE_DUE").build());

        List<SpanData> spans = awaitSpans(2);
        SpanData attempt = only(spans, SpanKind.CONSUMER);
        assertEquals(only(spans, SpanKind.PRODUCER).getSpanId(), attempt.getParentSpanId());
        assertEquals(StatusCode.ERROR, attempt.getStatus().getStatusCode());
        assertTrue(attempt.getStatus().getDescription().contains("dead-lettered"), attempt.getStatus().toString());
        EventData deadLettered = attempt.getEvents().stream().filter(e -> e.getName().equals("dead_lettered"))
                .findFirst().orElseThrow(() -> new AssertionError("no dead_lettered event: " + eventNames(attempt)));
        assertEquals("permanent", deadLettered.getAttributes().get(SpanAttributes.ERROR_CATEGORY));
        assertEquals("customer C-9 does not exist", deadLettered.getAttributes().get(SpanAttributes.REASON));
    }

    @Test
    void aForeignProducersTraceparentIsTheParent(RedisServer redis) {
        start(redis, WorkflowTracing.Relation.PARENT, ctx -> { });
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        String spanId = "00f067aa0ba902b7";
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("event_id", "foreign-1");
        fields.put("event_type", "TICKET_CREATED");
        fields.put("timestamp", "2025-03-01T23:00:00.000Z");
        fields.put("payload_json", "{}");
        fields.put("headers_json", "{\"traceparent\":\"00-" + traceId + "-" + spanId + "-01\",\"tracestate\":\"vendor=1\"}");
        try (RedisClient client = redis.client()) {
            client.xadd(STREAM, XAddParams.xAddParams(), fields);
        }

        SpanData attempt = only(awaitSpans(1), SpanKind.CONSUMER);
        assertEquals(traceId, attempt.getTraceId());
        assertEquals(spanId, attempt.getParentSpanId());
        assertEquals("1", attempt.getParentSpanContext().getTraceState().get("vendor"));
        assertEquals("foreign-1", attempt.getAttributes().get(SpanAttributes.MESSAGE_ID));
    }

    @Test
    void linkModeStartsANewTraceLinkedToTheProducer(RedisServer redis) {
        WorkflowTracing tracing = start(redis, WorkflowTracing.Relation.LINK, ctx -> { });

        tracing.publisher(service.publisher()).publishAll(List.of(
                WorkflowEvent.builder("A").build(), WorkflowEvent.builder("B").build()));

        List<SpanData> spans = awaitSpans(3);
        SpanData publish = only(spans, SpanKind.PRODUCER);
        assertEquals(2L, publish.getAttributes().get(SpanAttributes.BATCH_COUNT));
        List<SpanData> attempts = spans.stream().filter(s -> s.getKind() == SpanKind.CONSUMER).collect(Collectors.toList());
        assertEquals(2, attempts.size());
        for (SpanData attempt : attempts) {
            assertFalse(attempt.getParentSpanContext().isValid(), "a new trace");
            assertEquals(1, attempt.getLinks().size());
            assertEquals(publish.getTraceId(), attempt.getLinks().get(0).getSpanContext().getTraceId());
            assertEquals(publish.getSpanId(), attempt.getLinks().get(0).getSpanContext().getSpanId());
        }
    }

    @Test
    void anAttemptWhoseOutcomeNeverArrivesHasItsSpanEndedOnceStale() {
        WorkflowTracing tracing = WorkflowTracing.builder(otel).staleSpanTimeout(Duration.ofMillis(40)).build();
        // the tracing listener is deliberately not registered, so no outcome ever reaches the spans
        service = WorkerService.builder().runtime(tracing.runtime(ctx -> { })).workerCount(1)
                .pollInterval(Duration.ofMillis(50)).build();
        service.start();
        service.publisher().publish(WorkflowEvent.builder("A").build());
        Await.until(Duration.ofSeconds(5), () -> tracing.openSpans().size() == 1, "first span parked");
        // a span parked after the timeout sweeps the stale one
        Await.until(Duration.ofSeconds(5), () -> {
            service.publisher().publish(WorkflowEvent.builder("A").build());
            return !exporter.getFinishedSpanItems().isEmpty();
        }, "stale span ended");
        assertEquals(List.of("outcome_unknown"), eventNames(exporter.getFinishedSpanItems().get(0)));
    }

    private static SpanData only(List<SpanData> spans, SpanKind kind) {
        List<SpanData> of = spans.stream().filter(s -> s.getKind() == kind).collect(Collectors.toList());
        assertEquals(1, of.size(), kind + " spans: " + spans);
        return of.get(0);
    }

    private static List<String> eventNames(SpanData span) {
        return span.getEvents().stream().map(EventData::getName).collect(Collectors.toList());
    }
}
