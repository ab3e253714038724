package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing a Spring Boot application drains an in-flight event in the graceful-shutdown phase. */
class GracefulShutdownTest {

    /** A handler that holds its event until the test lets it go. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class SlowApp {
        static final CountDownLatch started = new CountDownLatch(1);
        static final CountDownLatch release = new CountDownLatch(1);
        static final List<EventOutcome> outcomes = new CopyOnWriteArrayList<>();

        @WorkflowHandler("SLOW")
        void slow(EventContext ctx) throws InterruptedException {
            started.countDown();
            assertTrue(release.await(20, TimeUnit.SECONDS));
        }

        @Bean
        static WorkerListener outcomes() {
            return new WorkerListener() {
                @Override
                public void onOutcome(EventOutcome outcome) {
                    outcomes.add(outcome);
                }
            };
        }
    }

    @Test
    void closingTheContextDrainsAnInFlightEventBeforeItReturns() throws Exception {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(SlowApp.class)
                .properties("workflow.worker.redis.url=" + TestRedis.server().uri(),
                        "workflow.worker.redis.stream=" + TestRedis.stream("drain"),
                        "workflow.worker.poll-interval=100ms", "workflow.worker.shutdown-timeout=20s",
                        "server.port=0", "spring.main.banner-mode=off")
                .run();
        WorkerService service = context.getBean(WorkerService.class);
        context.getBean(EventPublisher.class).publish(WorkflowEvent.builder("SLOW").build());
        assertTrue(SlowApp.started.await(10, TimeUnit.SECONDS), "the handler started");

        Thread closer = new Thread(context::close, "closer");
        closer.start();
        // the graceful-shutdown phase waits for the handler: the service stops reading but is not terminated
        Await.until(Duration.ofSeconds(10), () -> service.state() == WorkerService.State.STOPPING,
                () -> "the service to be stopping, not " + service.state());
        assertTrue(closer.isAlive(), "close() waits for the in-flight event");
        assertFalse(SlowApp.outcomes.stream().anyMatch(o -> o.kind() == EventOutcome.Kind.SUCCEEDED));

        SlowApp.release.countDown();
        closer.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(closer.isAlive(), "close() returned once the event finished");
        assertEquals(WorkerService.State.TERMINATED, service.state());
        assertTrue(SlowApp.outcomes.stream().anyMatch(o -> o.kind() == EventOutcome.Kind.SUCCEEDED),
                "the in-flight event completed instead of being abandoned: " + SlowApp.outcomes);
    }
}
