package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowAction;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.core.WorkerConfig;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.micrometer.WorkflowWorkerMetrics;
import dev.workflowworker.redis.RedisOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The auto-configuration in an {@link ApplicationContextRunner}, against a real redis-server. */
class WorkflowWorkerAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(WorkflowWorkerAutoConfiguration.class,
                    WorkflowWorkerMetricsAutoConfiguration.class, WorkflowWorkerTracingAutoConfiguration.class,
                    WorkflowWorkerHealthAutoConfiguration.class))
            .withPropertyValues("workflow.worker.redis.url=" + TestRedis.server().uri(),
                    "workflow.worker.poll-interval=100ms", "workflow.worker.worker-count=1");

    /** Two handler methods: the context, and the payload bound to a record. */
    static class TicketHandlers {
        record Ticket(String ticketId, int priority) {
        }

        final Map<String, Object> seen = new ConcurrentHashMap<>();
        final CountDownLatch done = new CountDownLatch(2);

        @WorkflowHandler("TICKET_CREATED")
        void created(EventContext ctx) {
            seen.put("created", ctx.payload().get("ticketId"));
            seen.put("thread", Thread.currentThread());
            done.countDown();
        }

        @WorkflowHandler(value = "TICKET_ESCALATED", requiredFields = "ticketId")
        void escalated(Ticket ticket, WorkflowEvent event) {
            seen.put("escalated", ticket);
            seen.put("executionId", event.executionId());
            done.countDown();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Handlers {
        @Bean
        TicketHandlers tickets() {
            return new TicketHandlers();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class DuplicateHandlers {
        @Bean
        TicketHandlers tickets() {
            return new TicketHandlers();
        }

        @Bean
        Object moreTickets() {
            return new Object() {
                @WorkflowHandler("TICKET_CREATED")
                void again(EventContext ctx) {
                }
            };
        }
    }

    @Test
    void annotatedHandlersAreInvokedWithTheContextOrTheBoundPayload() {
        String stream = TestRedis.stream("handlers");
        runner.withUserConfiguration(Handlers.class).withPropertyValues("workflow.worker.redis.stream=" + stream)
                .run(context -> {
                    WorkerService service = context.getBean(WorkerService.class);
                    assertEquals(stream, service.stream());
                    // ApplicationContextRunner publishes no ApplicationReadyEvent: start as the lifecycle would
                    context.getBean(WorkerServiceLifecycle.class).onApplicationEvent(null);
                    EventPublisher publisher = context.getBean(EventPublisher.class);
                    publisher.publish(WorkflowEvent.builder("TICKET_CREATED").payload(Map.of("ticketId", "T-1")).build());
                    publisher.publish(WorkflowEvent.builder("TICKET_ESCALATED").executionId("exec-9")
                            .payload(Map.of("ticketId", "T-2", "priority", 1)).build());

                    TicketHandlers h = context.getBean(TicketHandlers.class);
                    assertTrue(h.done.await(10, TimeUnit.SECONDS), "handlers ran: " + h.seen);
                    assertEquals("T-1", h.seen.get("created"));
                    assertEquals(new TicketHandlers.Ticket("T-2", 1), h.seen.get("escalated"));
                    assertEquals("exec-9", h.seen.get("executionId"));
                    assertNotNull(context.getBean(WorkflowWorkerMetrics.class));
                });
    }

    @Test
    void propertiesWinOverSeedVariablesWhichWinOverDefaults() {
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("workflow.worker.max-retries=7", "workflow.worker.lock-ttl=9s",
                        "workflow.worker.degraded-failure-ratio=0.25",
                        "workflow.worker.redis.group=from-property", "workflow.worker.redis.stream=props:stream",
                        "workflow.worker.redis.dead-letter-max-length=500",
                        // seed variables, as an environment would give them
                        "BATCH_SIZE=42", "MAX_RETRIES=1", "WORKER_GROUP=from-seed", "CLAIM_IDLE_MS=45000")
                .run(context -> {
                    WorkerConfig config = context.getBean(WorkerConfig.class);
                    assertEquals(7, config.maxRetries(), "the property beats MAX_RETRIES");
                    assertEquals(42, config.batchSize(), "BATCH_SIZE applies when the property is unset");
                    assertEquals(Duration.ofSeconds(45), config.claimIdle());
                    assertEquals(Duration.ofSeconds(9), config.lockTtl());
                    assertEquals(0.25, config.degradedFailureRatio());
                    assertEquals(1, config.workerCount());
                    assertEquals(WorkerConfig.DEFAULT_CONCURRENCY_LIMIT, config.concurrencyLimit());
                    RedisOptions redis = context.getBean(RedisOptions.class);
                    assertEquals("from-property", redis.group());
                    assertEquals("props:stream", redis.stream());
                    assertEquals(500, redis.deadLetterMaxLength());
                    assertEquals(config.toString(), context.getBean(WorkerService.class).config().toString());
                });
    }

    @Test
    void partitionsComeFromThePropertyOrWorkerPartitions() {
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("workflow.worker.redis.stream=" + TestRedis.stream("parts"),
                        "workflow.worker.redis.partition-lease-ttl=3s", "WORKER_PARTITIONS=4")
                .run(context -> {
                    RedisOptions redis = context.getBean(RedisOptions.class);
                    assertEquals(4, redis.partitions(), "WORKER_PARTITIONS applies when the property is unset");
                    assertEquals(Duration.ofSeconds(3), redis.partitionLeaseTtl());
                });
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("workflow.worker.redis.stream=" + TestRedis.stream("parts-default"))
                .run(context -> assertEquals(RedisOptions.DEFAULT_PARTITIONS,
                        context.getBean(RedisOptions.class).partitions(), "the ordered mode is the default"));
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("workflow.worker.redis.stream=" + TestRedis.stream("parts-shared"),
                        "workflow.worker.redis.partitions=0")
                .run(context -> assertEquals(0, context.getBean(RedisOptions.class).partitions(),
                        "partitions=0 selects the shared stream"));
    }

    @Test
    void waitForReplicasComesFromThePropertiesOrTheSeedVariables() {
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("workflow.worker.redis.stream=" + TestRedis.stream("wait"),
                        "workflow.worker.redis.wait-timeout=250ms", "REDIS_WAIT_REPLICAS=0")
                .run(context -> {
                    RedisOptions redis = context.getBean(RedisOptions.class);
                    assertEquals(0, redis.waitReplicas());
                    assertEquals(Duration.ofMillis(250), redis.waitTimeout());
                });
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("workflow.worker.redis.stream=" + TestRedis.stream("wait2"),
                        "workflow.worker.redis.wait-replicas=-1")
                .run(context -> {
                    Throwable failure = context.getStartupFailure();
                    org.junit.jupiter.api.Assertions.assertNotNull(failure, "a negative replica count must fail the start");
                    String messages = "";
                    for (Throwable t = failure; t != null; t = t.getCause()) {
                        messages += t.getMessage() + "\n";
                    }
                    org.junit.jupiter.api.Assertions.assertTrue(messages.contains("wait-replicas"), messages);
                });
    }

    @Test
    void seedVariablesCanBeSwitchedOff() {
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("workflow.worker.seed-variables=false", "BATCH_SIZE=42", "WORKER_GROUP=from-seed")
                .run(context -> {
                    assertEquals(WorkerConfig.DEFAULT_BATCH_SIZE, context.getBean(WorkerConfig.class).batchSize());
                    assertEquals(RedisOptions.DEFAULT_GROUP, context.getBean(RedisOptions.class).group());
                });
    }

    @Test
    void anInvalidPropertyFailsTheContextNamingIt() {
        runner.withUserConfiguration(Handlers.class).withPropertyValues("workflow.worker.batch-size=0")
                .run(context -> {
                    assertTrue(context.getStartupFailure() != null, "the context must not start");
                    assertTrue(rootMessage(context.getStartupFailure()).contains("workflow.worker.batch-size=0"),
                            rootMessage(context.getStartupFailure()));
                });
    }

    @Test
    void twoHandlersForOneEventTypeFailTheContextNamingBothBeans() {
        runner.withUserConfiguration(DuplicateHandlers.class).run(context -> {
            String message = rootMessage(context.getStartupFailure());
            assertTrue(message.contains("two handlers for event type 'TICKET_CREATED'"), message);
            assertTrue(message.contains("bean 'tickets' method created"), message);
            assertTrue(message.contains("bean 'moreTickets' method again"), message);
        });
    }

    @Test
    void aRequiredEventTypeWithoutHandlerFailsTheContextNamingIt() {
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("workflow.worker.required-event-types=TICKET_CREATED,INVOICE_DUE")
                .run(context -> {
                    String message = rootMessage(context.getStartupFailure());
                    assertTrue(message.contains("no @WorkflowHandler for event type(s) "
                            + "[INVOICE_DUE (workflow.worker.required-event-types)]"), message);
                    assertTrue(message.contains("TICKET_CREATED"), message);
                });
    }

    @Test
    void noHandlerAtAllFailsTheContextSayingWhatToAdd() {
        runner.run(context -> {
            String message = rootMessage(context.getStartupFailure());
            assertTrue(message.contains("no workflow handlers: add a @WorkflowHandler(\"EVENT_TYPE\") method"), message);
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class ActionBeans {
        @Bean
        InvoiceAction invoiceAction() {
            return new InvoiceAction();
        }

        @Bean
        WorkflowAction unannotated() {
            return ctx -> { };
        }
    }

    @WorkflowHandler("INVOICE_DUE")
    static class InvoiceAction implements WorkflowAction {
        @Override
        public void execute(EventContext context) {
        }
    }

    @Test
    void aWorkflowActionBeanNeedsItsEventTypeOnTheClass() {
        runner.withUserConfiguration(ActionBeans.class).run(context -> {
            String message = rootMessage(context.getStartupFailure());
            assertTrue(message.contains("WorkflowAction bean 'unannotated'"), message);
            assertTrue(message.contains("annotate its class with @WorkflowHandler"), message);
        });
    }

    @Test
    void aWorkflowActionBeanAnnotatedOnItsClassIsRegistered() {
        runner.withBean(InvoiceAction.class).run(context -> {
            assertFalse(context.getStartupFailure() != null, () -> rootMessage(context.getStartupFailure()));
            HandlerRuntime runtime = (HandlerRuntime) context.getBean(WorkflowRuntime.class);
            assertEquals(java.util.Set.of("INVOICE_DUE"), runtime.eventTypes());
        });
    }

    @Test
    void everyPartBacksOffForTheHostsOwnBean() {
        WorkflowRuntime own = ctx -> { };
        WorkerService ownService = WorkerService.builder().runtime(own).build();
        runner.withBean(WorkflowRuntime.class, () -> own).withBean(WorkerService.class, () -> ownService)
                .run(context -> {
                    assertSame(own, context.getBean(WorkflowRuntime.class));
                    assertSame(ownService, context.getBean(WorkerService.class));
                    assertFalse(context.containsBean("workflowHandlerRuntime"));
                });
    }

    @Test
    void virtualThreadsRunHandlersWhenAskedOnJava21AndLater() {
        String stream = TestRedis.stream("virtual");
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("spring.threads.virtual.enabled=true", "workflow.worker.redis.stream=" + stream)
                .run(context -> {
                    context.getBean(WorkerServiceLifecycle.class).onApplicationEvent(null);
                    context.getBean(EventPublisher.class).publish(WorkflowEvent.builder("TICKET_CREATED")
                            .payload(Map.of("ticketId", "T-1")).build());
                    context.getBean(EventPublisher.class).publish(WorkflowEvent.builder("TICKET_ESCALATED")
                            .executionId("exec-1").payload(Map.of("ticketId", "T-1", "priority", 2)).build());
                    TicketHandlers h = context.getBean(TicketHandlers.class);
                    assertTrue(h.done.await(10, TimeUnit.SECONDS));
                    boolean virtual = h.seen.get("thread").getClass().getName().equals("java.lang.VirtualThread");
                    assertEquals(Runtime.version().feature() >= 21, virtual,
                            "virtual on Java 21+, ignored before (Java " + Runtime.version().feature() + "): "
                                    + h.seen.get("thread"));
                });
    }

    @Test
    void metricsAreBoundToTheContextsRegistry() {
        runner.withUserConfiguration(Handlers.class).withBean(SimpleMeterRegistry.class)
                .run(context -> {
                    SimpleMeterRegistry registry = context.getBean(SimpleMeterRegistry.class);
                    // Boot binds MeterBinder beans itself; in a bare runner the binder is bound by hand
                    context.getBean(WorkflowWorkerMetrics.class).bindTo(registry);
                    assertNotNull(registry.find(WorkflowWorkerMetrics.PROCESSED).counter());
                });
    }

    @Test
    void withOpenTelemetryPublishAndProcessingShareOneTrace() {
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
        String stream = TestRedis.stream("traced");
        CountDownLatch succeeded = new CountDownLatch(1);
        WorkerListener listener = new WorkerListener() {
            @Override
            public void onOutcome(EventOutcome outcome) {
                if (outcome.kind() == EventOutcome.Kind.SUCCEEDED) {
                    succeeded.countDown();
                }
            }
        };
        runner.withUserConfiguration(Handlers.class)
                .withBean(OpenTelemetry.class, () -> sdk)
                .withBean(WorkerListener.class, () -> listener)
                .withPropertyValues("workflow.worker.redis.stream=" + stream)
                .run(context -> {
                    context.getBean(WorkerServiceLifecycle.class).onApplicationEvent(null);
                    context.getBean(EventPublisher.class).publish(WorkflowEvent.builder("TICKET_CREATED")
                            .payload(Map.of("ticketId", "T-1")).build());
                    assertTrue(succeeded.await(10, TimeUnit.SECONDS));
                    dev.workflowworker.core.testing.Await.until(Duration.ofSeconds(5),
                            () -> exporter.getFinishedSpanItems().size() >= 2,
                            "two spans");
                    List<SpanData> spans = exporter.getFinishedSpanItems();
                    SpanData producer = spans.stream().filter(s -> s.getKind() == SpanKind.PRODUCER).findFirst().orElseThrow();
                    SpanData consumer = spans.stream().filter(s -> s.getKind() == SpanKind.CONSUMER).findFirst().orElseThrow();
                    assertEquals(producer.getTraceId(), consumer.getTraceId());
                    assertEquals(producer.getSpanId(), consumer.getParentSpanId());
                    assertEquals("process " + stream, consumer.getName(),
                            spans.stream().map(SpanData::getName).collect(Collectors.joining(", ")));
                });
        sdk.close();
    }

    static String rootMessage(Throwable t) {
        assertNotNull(t, "the context must fail to start");
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c.getMessage()).append('\n');
        }
        return all.toString();
    }
}
