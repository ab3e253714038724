package dev.workflowworker.spring.boot;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.EventContext;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.micrometer.WorkflowWorkerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole application on a spawned redis-server with one schedule declared in its properties and
 * nothing else: the ready event starts the workers and creates the schedule, whose occurrences
 * reach the {@code @WorkflowHandler} of its event type.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {"spring.application.name=scheduled-app", "workflow.worker.poll-interval=100ms",
                "workflow.worker.worker-count=1", "workflow.worker.shutdown-timeout=1s",
                "workflow.worker.schedules.heartbeat.every=1s",
                "workflow.worker.schedules.heartbeat.event-type=HEARTBEAT",
                "workflow.worker.schedules.heartbeat.payload.source=properties"})
class ScheduledApplicationTest {

    @DynamicPropertySource
    static void redis(DynamicPropertyRegistry registry) {
        TestRedis.register(registry, TestRedis.stream("scheduled-app"));
    }

    /** The host application: the handler of the schedule's event type. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
        final LinkedBlockingQueue<EventContext> beats = new LinkedBlockingQueue<>();

        @WorkflowHandler("HEARTBEAT")
        void beat(EventContext ctx) {
            beats.add(ctx);
        }
    }

    @Autowired
    App app;
    @Autowired
    WorkerService service;
    @Autowired
    ObjectProvider<MeterRegistry> registry;

    @Test
    void theDeclaredScheduleIsCreatedWhenReadyAndItsOccurrencesReachTheHandler() throws Exception {
        assertEquals(WorkerService.State.RUNNING, service.state());
        Schedule stored = service.schedules().orElseThrow().get("heartbeat").orElseThrow().schedule();
        assertEquals("spring:scheduled-app", stored.managedBy());

        EventContext first = app.beats.poll(15, TimeUnit.SECONDS);
        assertNotNull(first, "an occurrence ran within 15 s of a 1 s schedule");
        assertTrue(first.event().eventId().startsWith("heartbeat:"), first.event().eventId());
        assertEquals("heartbeat", first.event().headers().get(Schedule.SCHEDULE_ID_HEADER));
        assertNotNull(first.event().headers().get(DelayedEvents.DUE_AT_HEADER));
        assertEquals("properties", first.payload().get("source"));

        // Boot's test support gives a simple registry on Boot 3; where there is one, the lateness was timed
        MeterRegistry meters = registry.getIfAvailable();
        if (meters != null) {
            Timer lateness = meters.find(WorkflowWorkerMetrics.LATENESS).tag("source", "schedule").timer();
            assertNotNull(lateness, "the schedule's lateness timer is registered");
            assertTrue(lateness.count() >= 1, "the occurrence's lateness was timed: " + lateness.count());
        }
    }
}
