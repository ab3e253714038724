package dev.workflowworker.micrometer;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.TransientWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.core.testing.FakeClock;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.api.spi.EventTransport;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkflowWorkerMetricsTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final Set<String> failedOnce = ConcurrentHashMap.newKeySet();
    private final CountDownLatch release = new CountDownLatch(1);
    private final InMemoryEventTransport transport = InMemoryEventTransport.create();
    private final WorkerService service = WorkerService.builder()
            .transport(transport)
            .runtime(ActionRuntime.builder()
                    .on("OK", ctx -> { })
                    .on("TRANSIENT_ONCE", ctx -> {
                        if (failedOnce.add(ctx.event().eventId())) {
                            throw new TransientWorkflowException("connection reset");
                        }
                    })
                    .on("RECOVERABLE_ONCE", ctx -> {
                        if (failedOnce.add(ctx.event().eventId())) {
                            throw new RecoverableWorkflowException("gateway busy");
                        }
                    })
                    .on("PERMANENT", ctx -> {
                        throw new PermanentWorkflowException("bad definition");
                    })
                    .on("BLOCK", ctx -> {
                        if (!release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                            throw new IllegalStateException("the test never released the handler");
                        }
                    })
                    .build())
            .workerCount(2)
            .concurrencyLimit(3)
            .pollInterval(Duration.ofMillis(20))
            .initialBackoff(Duration.ofMillis(5))
            .maxBackoff(Duration.ofMillis(10))
            .transientBackoff(Duration.ofMillis(1))
            .build();

    @AfterEach
    void stop() {
        release.countDown();
        service.shutdownNow();
    }

    private static double count(MeterRegistry r, String name, String... tags) {
        Counter c = r.find(name).tags(tags).counter();
        assertNotNull(c, () -> "no counter " + name + " " + Arrays.toString(tags));
        return c.count();
    }

    private static double gauge(MeterRegistry r, String name, String... tags) {
        Gauge g = r.find(name).tags(tags).gauge();
        assertNotNull(g, () -> "no gauge " + name + " " + Arrays.toString(tags));
        return g.value();
    }

    private static WorkflowEvent event(String type) {
        return WorkflowEvent.builder(type).payload(Map.of()).build();
    }

    @Test
    void keysHeldByARetryAreGaugedAndPartitionsAreNotANumberWithoutPartitions() {
        InMemoryEventTransport ordered = InMemoryEventTransport.create();
        WorkerService holding = WorkerService.builder()
                .transport(ordered)
                .runtime(ActionRuntime.builder().on("LATER", ctx -> {
                    throw new RecoverableWorkflowException("not yet", Duration.ofMinutes(5));
                }).on("OK", ctx -> { }).build())
                .pollInterval(Duration.ofMillis(20))
                .build();
        try {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            new WorkflowWorkerMetrics(holding).bindTo(registry);
            holding.start();
            holding.publisher().publish(WorkflowEvent.builder("LATER").executionId("x").payload(Map.of()).build());
            holding.publisher().publish(WorkflowEvent.builder("OK").executionId("x").payload(Map.of()).build());
            Await.until(WAIT, () -> gauge(registry, WorkflowWorkerMetrics.KEYS_HELD) == 1.0,
                    () -> "one key held; health " + holding.health().toJson());
            assertEquals(0, holding.health().eventsSucceeded(), "the key's next event waits behind the held one");
            assertTrue(Double.isNaN(gauge(registry, WorkflowWorkerMetrics.PARTITIONS_OWNED)));
            assertTrue(gauge(registry, WorkflowWorkerMetrics.KEYS_HELD_LONGEST) >= 0);
        } finally {
            holding.shutdownNow();
        }
    }

    @Test
    void countersAndTimerFollowEveryOutcomeAndMatchTheHealthSnapshot() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new WorkflowWorkerMetrics(service).bindTo(registry);
        service.start();

        WorkflowEvent first = event("OK");
        service.publisher().publish(first);
        service.publisher().publish(event("OK"));
        service.publisher().publish(event("OK"));
        service.publisher().publish(event("TRANSIENT_ONCE"));
        service.publisher().publish(event("TRANSIENT_ONCE"));
        service.publisher().publish(event("RECOVERABLE_ONCE"));
        service.publisher().publish(event("PERMANENT"));
        service.publisher().publish(event("PERMANENT"));
        service.publisher().publish(event("NO_SUCH_ACTION"));
        transport.publishRaw(Map.of("event_id", "broken-1", "event_type", "OK",
                "timestamp", "2025-03-01T23:00:00.000Z", "payload_json", "{not json"));

        Await.until(WAIT, () -> {
            HealthSnapshot h = service.health();
            return h.eventsSucceeded() == 6 && h.eventsDeadLettered() == 4 && h.activeEvents() == 0;
        }, () -> "every event settled; health " + service.health().toJson());
        // A redelivery of a completed event: acknowledged as a duplicate, not run again.
        service.publisher().publish(first);
        Await.until(WAIT, () -> service.health().duplicates() == 1 && service.health().activeEvents() == 0,
                () -> "the duplicate acknowledged; health " + service.health().toJson());

        assertEquals(6, count(registry, WorkflowWorkerMetrics.SUCCEEDED));
        assertEquals(2, count(registry, WorkflowWorkerMetrics.FAILED, "category", "transient"));
        assertEquals(1, count(registry, WorkflowWorkerMetrics.FAILED, "category", "recoverable"));
        // two PERMANENT handlers, the unknown event type and the malformed entry
        assertEquals(4, count(registry, WorkflowWorkerMetrics.FAILED, "category", "permanent"));
        assertEquals(13, count(registry, WorkflowWorkerMetrics.PROCESSED));
        assertEquals(3, count(registry, WorkflowWorkerMetrics.RETRIED));
        assertEquals(4, count(registry, WorkflowWorkerMetrics.DEAD_LETTERED, "category", "permanent"));
        assertEquals(0, count(registry, WorkflowWorkerMetrics.DEAD_LETTERED, "category", "recoverable"));
        assertEquals(1, count(registry, WorkflowWorkerMetrics.DUPLICATES));

        HealthSnapshot h = service.health();
        assertEquals(h.eventsProcessed(), (long) count(registry, WorkflowWorkerMetrics.PROCESSED));
        assertEquals(h.eventsSucceeded(), (long) count(registry, WorkflowWorkerMetrics.SUCCEEDED));
        assertEquals(h.eventsFailed(), (long) registry.find(WorkflowWorkerMetrics.FAILED).counters().stream()
                .mapToDouble(Counter::count).sum());
        assertEquals(h.eventsRetried(), (long) count(registry, WorkflowWorkerMetrics.RETRIED));
        assertEquals(h.eventsDeadLettered(), (long) registry.find(WorkflowWorkerMetrics.DEAD_LETTERED).counters()
                .stream().mapToDouble(Counter::count).sum());
        assertEquals(h.duplicates(), (long) count(registry, WorkflowWorkerMetrics.DUPLICATES));

        Timer succeeded = registry.find(WorkflowWorkerMetrics.PROCESSING).tag("outcome", "succeeded").timer();
        Timer failed = registry.find(WorkflowWorkerMetrics.PROCESSING).tag("outcome", "failed").timer();
        assertNotNull(succeeded);
        assertNotNull(failed);
        assertEquals(6, succeeded.count());
        // the malformed entry never reached a handler and is not timed
        assertEquals(6, failed.count());
        assertTrue(succeeded.totalTime(TimeUnit.NANOSECONDS) > 0, "handler time recorded");
        Set<Double> percentiles = Arrays.stream(succeeded.takeSnapshot().percentileValues())
                .map(ValueAtPercentile::percentile).collect(Collectors.toSet());
        // (SimpleMeterRegistry drops histogram buckets; the examples' Prometheus test checks them)
        assertEquals(Set.of(0.5, 0.95, 0.99), percentiles);
    }

    @Test
    void gaugesReadActiveEventsAndWorkersByStatusFromHealth() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new WorkflowWorkerMetrics(service).bindTo(registry);
        // Before start the service is unhealthy and runs no worker.
        assertEquals(0, gauge(registry, WorkflowWorkerMetrics.WORKERS, "status", "healthy"));
        service.start();
        Await.until(WAIT, () -> gauge(registry, WorkflowWorkerMetrics.WORKERS, "status", "healthy") == 2,
                "both workers healthy");
        assertEquals(0, gauge(registry, WorkflowWorkerMetrics.WORKERS, "status", "degraded"));
        assertEquals(0, gauge(registry, WorkflowWorkerMetrics.WORKERS, "status", "unhealthy"));
        assertEquals(0, gauge(registry, WorkflowWorkerMetrics.ACTIVE));

        service.publisher().publish(event("BLOCK"));
        service.publisher().publish(event("BLOCK"));
        Await.until(WAIT, () -> gauge(registry, WorkflowWorkerMetrics.ACTIVE) == 2, "two blocked handlers active");
        release.countDown();
        Await.until(WAIT, () -> gauge(registry, WorkflowWorkerMetrics.ACTIVE) == 0, "handlers finished");
        assertEquals(2, count(registry, WorkflowWorkerMetrics.SUCCEEDED));
    }

    @Test
    void streamGaugesReadLagPendingAndDeadLettersFromTheTransport() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new WorkflowWorkerMetrics(service).bindTo(registry);
        // Not started: everything published waits undelivered.
        for (int i = 0; i < 3; i++) {
            service.publisher().publish(event("OK"));
        }
        service.publisher().publish(event("PERMANENT"));
        assertEquals(4, gauge(registry, WorkflowWorkerMetrics.LAG));
        assertEquals(0, gauge(registry, WorkflowWorkerMetrics.PENDING));
        service.start();
        Await.until(WAIT, () -> gauge(registry, WorkflowWorkerMetrics.DEAD_LETTERS) == 1
                && gauge(registry, WorkflowWorkerMetrics.LAG) == 0
                && gauge(registry, WorkflowWorkerMetrics.PENDING) == 0, "stream drained, one dead letter");
        assertEquals(0, gauge(registry, WorkflowWorkerMetrics.RETRY_SCHEDULED));
        service.publisher().publish(event("BLOCK"));
        Await.until(WAIT, () -> gauge(registry, WorkflowWorkerMetrics.PENDING) == 1, "the blocked event pending");
    }

    @Test
    void everyMeterCarriesTheStreamAndTheGivenTags() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new WorkflowWorkerMetrics(service, Tags.of("instance", "node-1")).bindTo(registry);
        assertTrue(registry.getMeters().size() >= 20, "meters registered at bind time: " + registry.getMeters().size());
        for (Meter m : registry.getMeters()) {
            assertEquals("workflow:events:global", m.getId().getTag("stream"), m.getId().toString());
            assertEquals("node-1", m.getId().getTag("instance"), m.getId().toString());
        }
    }

    @Test
    void streamTagIsTheStreamTheTransportReads() {
        WorkerService orders = WorkerService.builder()
                .transport(InMemoryEventTransport.builder().stream("orders").build())
                .runtime(ActionRuntime.builder().on("OK", ctx -> { }).build())
                .build();
        try {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            new WorkflowWorkerMetrics(orders).bindTo(registry);
            assertTrue(!registry.getMeters().isEmpty());
            for (Meter m : registry.getMeters()) {
                assertEquals("orders", m.getId().getTag("stream"), m.getId().toString());
            }
        } finally {
            orders.shutdownNow();
        }
    }

    @Test
    void oneBinderFeedsSeveralRegistriesAndCloseUnbindsThemAll() {
        SimpleMeterRegistry a = new SimpleMeterRegistry();
        SimpleMeterRegistry b = new SimpleMeterRegistry();
        WorkflowWorkerMetrics metrics = new WorkflowWorkerMetrics(service);
        metrics.bindTo(a);
        metrics.bindTo(b);
        service.start();
        service.publisher().publish(event("OK"));
        Await.until(WAIT, () -> count(a, WorkflowWorkerMetrics.SUCCEEDED) == 1
                && count(b, WorkflowWorkerMetrics.SUCCEEDED) == 1, "both registries counted the success");

        metrics.close();
        assertNull(a.find(WorkflowWorkerMetrics.SUCCEEDED).counter());
        assertNull(b.find(WorkflowWorkerMetrics.ACTIVE).gauge());
        assertTrue(a.getMeters().isEmpty(), () -> "left behind: " + a.getMeters());
        // The listener is gone too: a later binder on a fresh registry starts from zero.
        SimpleMeterRegistry c = new SimpleMeterRegistry();
        new WorkflowWorkerMetrics(service).bindTo(c);
        service.publisher().publish(event("OK"));
        Await.until(WAIT, () -> count(c, WorkflowWorkerMetrics.SUCCEEDED) == 1, "the new binder counted");
        assertTrue(a.getMeters().isEmpty(), "a closed binder registers nothing again");
    }

    @Test
    void delayedEventsAndOccurrencesReportHowLateTheyStarted() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new WorkflowWorkerMetrics(service).bindTo(registry);
        service.start();
        DelayedEvents delayed = service.delayed().orElseThrow();
        delayed.publishAfter(WorkflowEvent.builder("OK").eventId("later").build(), Duration.ofMillis(30));
        delayed.publishAfter(WorkflowEvent.builder("OK").eventId("much-later").build(), Duration.ofHours(1));
        Schedules schedules = service.schedules().orElseThrow();
        schedules.put(Schedule.every("tick", Duration.ofHours(1)).eventType("OK").build());
        schedules.triggerNow("tick");

        Timer delayedLateness = registry.find(WorkflowWorkerMetrics.LATENESS).tag("source", "delayed").timer();
        Timer scheduleLateness = registry.find(WorkflowWorkerMetrics.LATENESS).tag("source", "schedule").timer();
        assertNotNull(delayedLateness);
        assertNotNull(scheduleLateness);
        Await.until(WAIT, () -> delayedLateness.count() == 1 && scheduleLateness.count() == 1,
                () -> "lateness recorded: delayed " + delayedLateness.count() + ", schedule " + scheduleLateness.count());
        assertEquals(1.0, gauge(registry, WorkflowWorkerMetrics.DELAYED_WAITING), "the one due in an hour");
        assertTrue(delayedLateness.max(TimeUnit.MILLISECONDS) < WAIT.toMillis());
    }

    @Test
    void startsLaterThanLateAfterAreCountedBySource() throws Exception {
        MockClock clock = new MockClock();
        clock.add(Duration.ofMillis(Instant.parse("2026-12-06T10:00:00Z").toEpochMilli()));
        SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
        new WorkflowWorkerMetrics(service, Tags.empty(), Duration.ofSeconds(2)).bindTo(registry);
        service.start();
        Instant now = Instant.ofEpochMilli(clock.wallTime());
        // due-at as the transports set it; the registry's clock is "now" for every start
        publishDue("on-time", now.minusMillis(1500), Map.of());
        publishDue("late", now.minusSeconds(5), Map.of());
        publishDue("late-occurrence", now.minusSeconds(3), Map.of(Schedule.SCHEDULE_ID_HEADER, "tick"));
        publishDue("not-due-at-all", null, Map.of());

        Timer delayed = registry.find(WorkflowWorkerMetrics.LATENESS).tag("source", "delayed").timer();
        Timer schedule = registry.find(WorkflowWorkerMetrics.LATENESS).tag("source", "schedule").timer();
        Await.until(WAIT, () -> delayed.count() == 2 && schedule.count() == 1
                        && count(registry, WorkflowWorkerMetrics.SUCCEEDED) == 4,
                () -> "started: delayed " + delayed.count() + ", schedule " + schedule.count());
        assertEquals(1.0, count(registry, WorkflowWorkerMetrics.LATE, "source", "delayed"), "5 s late, not 1.5 s");
        assertEquals(1.0, count(registry, WorkflowWorkerMetrics.LATE, "source", "schedule"));
        assertEquals(5000.0, delayed.max(TimeUnit.MILLISECONDS));
    }

    private void publishDue(String id, Instant due, Map<String, String> headers) {
        Map<String, String> h = new java.util.HashMap<>(headers);
        if (due != null) {
            h.put(DelayedEvents.DUE_AT_HEADER, due.toString());
        }
        service.publisher().publish(WorkflowEvent.builder("OK").eventId(id).headers(h).build());
    }

    @Test
    void scheduleGaugesSumTheStreamsSchedulesOncePerRefresh() throws Exception {
        FakeClock time = new FakeClock(Instant.parse("2026-12-06T10:00:00Z"));
        InMemoryEventTransport t = InMemoryEventTransport.builder().timeSource(time).build();
        WorkerService s = WorkerService.builder().transport(t)
                .runtime(ActionRuntime.builder().on("OK", ctx -> { }).build()).build();
        MockClock clock = new MockClock();
        SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
        new WorkflowWorkerMetrics(s).bindTo(registry);
        Schedules schedules = s.schedules().orElseThrow();
        schedules.put(Schedule.every("every-minute", Duration.ofMinutes(1)).eventType("OK").build());
        schedules.put(Schedule.every("skipping", Duration.ofMinutes(1)).eventType("OK")
                .misfire(Schedule.Misfire.SKIP).build());
        schedules.put(Schedule.every("paused", Duration.ofMinutes(1)).eventType("OK").paused(true).build());

        assertEquals(2.0, gauge(registry, WorkflowWorkerMetrics.SCHEDULES, "state", "active"));
        assertEquals(1.0, gauge(registry, WorkflowWorkerMetrics.SCHEDULES, "state", "paused"));
        assertEquals(0.0, gauge(registry, WorkflowWorkerMetrics.OCCURRENCES_FIRED));
        assertEquals(0.0, gauge(registry, WorkflowWorkerMetrics.OCCURRENCES_SKIPPED));

        // an outage of 5 minutes: on the next look FIRE_ONCE fires one for those missed and skips
        // the rest, SKIP skips them all
        time.advance(Duration.ofMinutes(5).plusSeconds(30));
        EventTransport.Consumer c = t.openConsumer("c");
        c.read(10, Duration.ZERO);
        long fired = schedules.list().stream().mapToLong(ScheduleInfo::fired).sum();
        long skipped = schedules.list().stream().mapToLong(ScheduleInfo::skipped).sum();
        assertTrue(fired > 0 && skipped > 0, "the outage fired some and skipped some: " + schedules.list());

        assertEquals(0.0, gauge(registry, WorkflowWorkerMetrics.OCCURRENCES_FIRED), "read at most every minute");
        clock.add(Duration.ofSeconds(60));
        assertEquals(fired, gauge(registry, WorkflowWorkerMetrics.OCCURRENCES_FIRED));
        assertEquals(skipped, gauge(registry, WorkflowWorkerMetrics.OCCURRENCES_SKIPPED));
        assertEquals(2.0, gauge(registry, WorkflowWorkerMetrics.SCHEDULES, "state", "active"));
        s.shutdownNow();
    }

    @Test
    void withoutSchedulesTheScheduleGaugesAreNotANumber() {
        WorkerService s = WorkerService.builder().transport(new dev.workflowworker.core.testing.FlakyTransport(InMemoryEventTransport.create()))
                .runtime(ActionRuntime.builder().on("OK", ctx -> { }).build()).build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new WorkflowWorkerMetrics(s).bindTo(registry);
        assertTrue(Double.isNaN(gauge(registry, WorkflowWorkerMetrics.OCCURRENCES_FIRED)));
        assertTrue(Double.isNaN(gauge(registry, WorkflowWorkerMetrics.SCHEDULES, "state", "active")));
        assertTrue(Double.isNaN(gauge(registry, WorkflowWorkerMetrics.DELAYED_WAITING)));
        assertEquals(0.0, count(registry, WorkflowWorkerMetrics.LATE, "source", "schedule"));
        s.shutdownNow();
    }
}
