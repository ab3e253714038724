package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.workflowworker.spring.boot.WorkflowWorkerAutoConfigurationTest.rootMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Schedules declared under {@code workflow.worker.schedules.<id>.*}: created when the application
 * is ready, not rewritten when unchanged, updated when changed, pruned only when asked and only
 * when this application declared them, fired into a {@code @WorkflowHandler} on the in-memory
 * transport and on a real redis-server; a wrong declaration fails the context naming its property.
 */
class DeclaredSchedulesTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(WorkflowWorkerAutoConfiguration.class))
            .withUserConfiguration(Handlers.class)
            .withPropertyValues("workflow.worker.poll-interval=100ms", "workflow.worker.worker-count=1",
                    "workflow.worker.shutdown-timeout=1s");

    private ApplicationContextRunner inMemory() {
        return runner.withBean(EventTransport.class, InMemoryEventTransport::create);
    }

    private ApplicationContextRunner onRedis(String stream) {
        return runner.withPropertyValues("workflow.worker.redis.url=" + TestRedis.server().uri(),
                "workflow.worker.redis.stream=" + stream, "workflow.worker.redis.partitions=4");
    }

    /** The handler of the schedules' event type; records each occurrence it runs. */
    static class Reports {
        final LinkedBlockingQueue<EventContext> seen = new LinkedBlockingQueue<>();

        @WorkflowHandler("SEND_REPORT")
        void send(EventContext ctx) {
            seen.add(ctx);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Handlers {
        @Bean
        Reports reports() {
            return new Reports();
        }
    }

    private static DeclaredSchedules.Applied apply(AssertableApplicationContext context) {
        assertNull(context.getStartupFailure());
        return context.getBean(DeclaredSchedules.class).apply();
    }

    private static Schedules schedules(AssertableApplicationContext context) {
        return context.getBean(WorkerService.class).schedules().orElseThrow();
    }

    @Test
    void aDeclaredScheduleFiresIntoItsWorkflowHandlerInMemory() {
        inMemory().withPropertyValues("spring.application.name=reports",
                        "workflow.worker.schedules.report.every=1s",
                        "workflow.worker.schedules.report.event-type=SEND_REPORT",
                        "workflow.worker.schedules.report.execution-id=reports",
                        "workflow.worker.schedules.report.tenant=acme",
                        "workflow.worker.schedules.report.payload.format=pdf",
                        "workflow.worker.schedules.report.payload.to.team=ops",
                        "workflow.worker.schedules.report.overlap=skip")
                .run(context -> {
                    // what the ready event does: start the service, then apply
                    context.getBean(WorkerServiceLifecycle.class).onApplicationEvent(null);
                    context.getBean(DeclaredSchedules.class).onApplicationEvent(null);

                    EventContext ctx = context.getBean(Reports.class).seen.poll(10, TimeUnit.SECONDS);
                    assertNotNull(ctx, "an occurrence reached the @WorkflowHandler");
                    assertEquals("report", ctx.event().headers().get(Schedule.SCHEDULE_ID_HEADER));
                    assertTrue(ctx.event().eventId().startsWith("report:"), ctx.event().eventId());
                    assertEquals("reports", ctx.event().executionId());
                    assertEquals("acme", ctx.event().tenant());
                    assertEquals(Map.of("format", "pdf", "to", Map.of("team", "ops")), ctx.payload());

                    Schedule stored = schedules(context).get("report").orElseThrow().schedule();
                    assertEquals("spring:reports", stored.managedBy());
                    assertEquals(Schedule.Overlap.SKIP, stored.overlap());
                    assertEquals(new DeclaredSchedules.Applied(List.of(), List.of(), List.of("report"), List.of(),
                            List.of()), apply(context), "the second look finds it as declared");
                });
    }

    @Test
    void aRestartRewritesNothingAChangeUpdatesAndOnlyItsOwnSchedulesArePrunedWhenAsked() {
        String stream = TestRedis.stream("declared");
        String[] both = {"workflow.worker.schedules-owner=orders",
                "workflow.worker.schedules.daily.cron=0 7 * * 1-5",
                "workflow.worker.schedules.daily.zone=Europe/Berlin",
                "workflow.worker.schedules.daily.event-type=SEND_REPORT",
                "workflow.worker.schedules.daily.jitter=30s",
                "workflow.worker.schedules.daily.misfire=fire-all",
                "workflow.worker.schedules.daily.limit=100",
                "workflow.worker.schedules.daily.start=2026-01-01T00:00:00Z",
                "workflow.worker.schedules[sync.hourly].every=1h",
                "workflow.worker.schedules[sync.hourly].event-type=SEND_REPORT"};
        AtomicReference<ScheduleInfo> first = new AtomicReference<>();
        onRedis(stream).withPropertyValues(both).run(context -> {
            assertEquals(new DeclaredSchedules.Applied(List.of("daily", "sync.hourly"), List.of(), List.of(),
                    List.of(), List.of()), apply(context));
            Schedules s = schedules(context);
            first.set(s.get("daily").orElseThrow());
            Schedule daily = first.get().schedule();
            assertEquals(ZoneId.of("Europe/Berlin"), daily.zone());
            assertEquals(Duration.ofSeconds(30), daily.jitter());
            assertEquals(Schedule.Misfire.FIRE_ALL, daily.misfire());
            assertEquals(100, daily.limit());
            assertEquals("spring:orders", daily.managedBy());
            // made elsewhere: in code with no mark, and by another application sharing the stream
            s.put(Schedule.every("by-hand", Duration.ofHours(1)).eventType("SEND_REPORT").build());
            s.put(Schedule.every("billing-sync", Duration.ofHours(1)).eventType("SEND_REPORT")
                    .managedBy("spring:billing").build());
        });
        onRedis(stream).withPropertyValues(both).run(context -> {
            assertEquals(List.of("daily", "sync.hourly"), apply(context).unchanged(), "a restart writes nothing");
            assertEquals(first.get(), schedules(context).get("daily").orElseThrow());
        });
        onRedis(stream).withPropertyValues("workflow.worker.schedules-owner=orders",
                "workflow.worker.schedules.daily.cron=0 8 * * 1-5",
                "workflow.worker.schedules.daily.event-type=SEND_REPORT").run(context -> {
                    assertEquals(new DeclaredSchedules.Applied(List.of(), List.of("daily"), List.of(), List.of(),
                            List.of("sync.hourly")), apply(context));
                    Schedule daily = schedules(context).get("daily").orElseThrow().schedule();
                    assertEquals("0 8 * * 1-5", daily.cron());
                    assertEquals(ZoneOffset.UTC, daily.zone(), "an unset setting goes back to the default");
                    assertTrue(schedules(context).get("sync.hourly").isPresent(), "left alone without pruning");
                });
        onRedis(stream).withPropertyValues("workflow.worker.schedules-owner=orders",
                "workflow.worker.schedules-prune=true",
                "workflow.worker.schedules.daily.cron=0 8 * * 1-5",
                "workflow.worker.schedules.daily.event-type=SEND_REPORT").run(context -> {
                    DeclaredSchedules.Applied applied = apply(context);
                    assertEquals(List.of("sync.hourly"), applied.deleted());
                    assertEquals(List.of("daily"), applied.unchanged());
                    Schedules s = schedules(context);
                    assertTrue(s.get("sync.hourly").isEmpty());
                    assertTrue(s.get("by-hand").isPresent(), "never declared: never pruned");
                    assertTrue(s.get("billing-sync").isPresent(), "another application's: never pruned");
                });
    }

    @Test
    void anUnsetPausedKeepsTheOperatorsPauseAndASetOneWins() {
        String stream = TestRedis.stream("paused");
        String[] declared = {"workflow.worker.schedules.tick.every=1m",
                "workflow.worker.schedules.tick.event-type=SEND_REPORT"};
        onRedis(stream).withPropertyValues(declared).run(context -> {
            assertEquals(List.of("tick"), apply(context).created());
            assertTrue(schedules(context).pause("tick"), "an operator pauses it");
        });
        onRedis(stream).withPropertyValues(declared).run(context -> {
            assertEquals(List.of("tick"), apply(context).unchanged());
            assertTrue(schedules(context).get("tick").orElseThrow().schedule().paused(), "the pause outlives a restart");
        });
        onRedis(stream).withPropertyValues(declared).withPropertyValues("workflow.worker.schedules.tick.paused=false")
                .run(context -> {
                    assertEquals(List.of("tick"), apply(context).updated());
                    assertFalse(schedules(context).get("tick").orElseThrow().schedule().paused());
                });
        onRedis(stream).withPropertyValues(declared).withPropertyValues("workflow.worker.schedules.tick.paused=true")
                .run(context -> {
                    assertEquals(List.of("tick"), apply(context).updated());
                    assertTrue(schedules(context).get("tick").orElseThrow().schedule().paused());
                });
    }

    @Test
    void aWrongDeclarationFailsTheContextNamingTheProperty() {
        String p = "workflow.worker.schedules.s.";
        failsWith(List.of(p + "every=1m"), "workflow.worker.schedules.s.event-type must be set");
        failsWith(List.of(p + "event-type=SEND_REPORT"), "set exactly one of workflow.worker.schedules.s.cron and");
        failsWith(List.of(p + "event-type=SEND_REPORT", p + "every=1m", p + "cron=@daily"), "set exactly one of");
        failsWith(List.of(p + "event-type=SEND_REPORT", p + "cron=61 * * * *"),
                "workflow.worker.schedules.s.cron=61 * * * * is invalid");
        failsWith(List.of(p + "event-type=SEND_REPORT", p + "every=500ms"),
                "workflow.worker.schedules.s.every=PT0.5S is invalid");
        failsWith(List.of(p + "event-type=SEND_REPORT", p + "every=1m", p + "zone=Mars/Olympus"),
                "workflow.worker.schedules.s.zone=Mars/Olympus is invalid");
        failsWith(List.of(p + "event-type=SEND_REPORT", p + "every=1m", p + "misfire=never"),
                "workflow.worker.schedules.s.misfire");
        failsWith(List.of(p + "event-type=SEND_REPORT", p + "every=1m", p + "start=2027-01-01T00:00:00Z",
                p + "end=2026-01-01T00:00:00Z"), "workflow.worker.schedules.s.*: schedule 's': end");
        failsWith(List.of(p + "event-type=SEND_REPORT", p + "every=1m", p + "jitter=-1s"),
                "workflow.worker.schedules.s.*: schedule 's': jitter");
        failsWith(List.of("workflow.worker.schedules[bad id].every=1m",
                "workflow.worker.schedules[bad id].event-type=SEND_REPORT"), "workflow.worker.schedules.bad id: schedule id");
        failsWith(List.of(p + "event-type=NOBODY_HANDLES_IT", p + "every=1m"),
                "NOBODY_HANDLES_IT (workflow.worker.schedules.s.event-type)");
    }

    private void failsWith(List<String> properties, String expected) {
        inMemory().withPropertyValues(properties.toArray(String[]::new)).run(context -> {
            String message = rootMessage(context.getStartupFailure());
            assertTrue(message.contains(expected), message);
        });
    }

    @Test
    void aSharedStreamKeepsDeclaredSchedules() {
        onRedis(TestRedis.stream("shared")).withPropertyValues("workflow.worker.redis.partitions=0",
                "workflow.worker.schedules.s.every=1m", "workflow.worker.schedules.s.event-type=SEND_REPORT")
                .run(context -> {
                    assertEquals(new DeclaredSchedules.Applied(List.of("s"), List.of(), List.of(), List.of(),
                            List.of()), apply(context));
                    assertEquals(Duration.ofMinutes(1), schedules(context).get("s").orElseThrow().schedule().interval());
                });
    }
}
