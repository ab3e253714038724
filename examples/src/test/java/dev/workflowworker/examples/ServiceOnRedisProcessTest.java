package dev.workflowworker.examples;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code Main serve} as a separate JVM on a real Redis (REDIS_URL, a container, or a spawned redis-server). */
@ExtendWith(RedisServerExtension.class)
class ServiceOnRedisProcessTest {

    @TempDir
    Path dir;

    @Test
    void processesEventsFromRedisAndHandsBackUnfinishedWorkOnSigterm(RedisServer redis) throws Exception {
        // A claim idle time far above the test's waits: a redelivery within them proves the hand-back.
        Map<String, String> env = Map.of("PORT", "0", "REDIS_URL", redis.uri(), "WORKER_COUNT", "1",
                "POLL_INTERVAL_MS", "100", "SHUTDOWN_TIMEOUT_MS", "1000", "CLAIM_IDLE_MS", "120000",
                "LOG_LEVEL", "debug");
        try (RedisEventTransport producer = RedisEventTransport.create(redis.options().build());
             ServeProcess first = ServeProcess.start(dir.resolve("first.log"), env, "serve")) {
            first.awaitPort(ServiceProcessTest.START);
            assertTrue(first.output().contains("using Redis at"), first.output());
            for (int i = 0; i < 3; i++) {
                producer.publish(WorkflowEvent.builder("TICKET_CREATED").executionId("exec-" + i)
                        .payload(Map.of("ticket_id", "T-" + i)).build());
            }
            producer.publish(WorkflowEvent.builder("REPORT_GENERATE").executionId("exec-report")
                    .payload(Map.of("report", "monthly", "duration_ms", 600_000)).build());

            first.awaitHealth(ServiceProcessTest.START, r -> r.statusCode() == 200
                            && r.body().contains("\"eventsSucceeded\":3,") && r.body().contains("\"activeEvents\":1,"),
                    "three tickets done and the report in progress");
            String metrics = first.get(ServiceMode.METRICS_PATH).body();
            assertTrue(metrics.contains("workflow_worker_events_succeeded_total{stream=\"workflow:events:global\"} 3.0"),
                    metrics);
            assertTrue(metrics.contains("workflow_worker_events_active{stream=\"workflow:events:global\"} 1.0"), metrics);
            // The operator's page and its data, read-only by default.
            assertTrue(first.get(ServiceMode.DASHBOARD_PATH + "/").body().contains("workflow-worker dashboard"));
            String overview = first.get(ServiceMode.DASHBOARD_PATH + "/api/overview").body();
            assertTrue(overview.contains("\"actionsEnabled\":false") && overview.contains("\"length\":4"), overview);
            // LOG_LEVEL=debug: one line per event with its outcome and handler time
            assertTrue(first.output().contains("(TICKET_CREATED) SUCCEEDED on attempt 1 in"), first.output());

            assertEquals(0, first.terminate(Duration.ofSeconds(20)), first::output);
            String out = first.output();
            assertTrue(out.contains("(REPORT_GENERATE) RELEASED"), out);
            assertTrue(out.contains("drained in"), out);

            // The unfinished report was handed back, so the next instance takes it up at once.
            try (ServeProcess second = ServeProcess.start(dir.resolve("second.log"), env, "serve")) {
                second.awaitPort(ServiceProcessTest.START);
                second.awaitHealth(Duration.ofSeconds(30), r -> r.body().contains("\"activeEvents\":1,"),
                        "the handed-back report redelivered to the new instance");
                assertEquals(0, second.terminate(Duration.ofSeconds(20)), second::output);
            }
        }
    }

    @Test
    void answers503WhileDrainingAndExitsZeroOnceTheLastEventFinishes(RedisServer redis) throws Exception {
        Map<String, String> env = Map.of("PORT", "0", "REDIS_URL", redis.uri(), "WORKER_COUNT", "1",
                "POLL_INTERVAL_MS", "100", "SHUTDOWN_TIMEOUT_MS", "20000", "WORKER_STREAM", "drain:stream");
        try (RedisEventTransport producer = RedisEventTransport.create(
                redis.options().stream("drain:stream").build());
             ServeProcess p = ServeProcess.start(dir.resolve("drain.log"), env, "serve")) {
            p.awaitPort(ServiceProcessTest.START);
            p.awaitHealth(ServiceProcessTest.START, r -> r.statusCode() == 200 && r.body().contains("\"status\":\"healthy\""),
                    "healthy before the drain");
            producer.publish(WorkflowEvent.builder("REPORT_GENERATE").executionId("exec-drain")
                    .payload(Map.of("report", "year-end", "duration_ms", 2_000, "uninterruptible", true)).build());
            p.awaitHealth(ServiceProcessTest.START, r -> r.body().contains("\"activeEvents\":1,"), "the report running");

            p.sigterm();
            // While the report finishes, the instance tells load balancers it is leaving.
            p.awaitHealth(Duration.ofSeconds(10), r -> r.statusCode() == 503
                    && r.body().startsWith("{\"status\":\"unhealthy\""), "503 while draining");
            assertEquals(0, p.awaitExit(Duration.ofSeconds(30)), p::output);
            String out = p.output();
            assertTrue(out.contains("report year-end generated in 2000 ms"), out);
            assertTrue(out.contains("drained in"), out);
        }
    }
}
