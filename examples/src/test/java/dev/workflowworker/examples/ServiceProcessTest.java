package dev.workflowworker.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code Main serve} on the in-memory transport as a separate JVM, as an operator would. */
class ServiceProcessTest {

    static final Duration START = Duration.ofSeconds(30);
    static final List<String> SEED_KEYS = List.of("status", "workerCount", "healthyWorkers",
            "degradedWorkers", "unhealthyWorkers", "eventsProcessed", "eventsSucceeded", "eventsFailed",
            "activeEvents", "timestamp");

    @TempDir
    Path dir;

    @Test
    void serveAnswersHealthAndMetricsAndDrainsCleanlyOnSigterm() throws Exception {
        try (ServeProcess p = ServeProcess.start(dir.resolve("serve.log"),
                Map.of("PORT", "0", "WORKER_COUNT", "2", "SHUTDOWN_TIMEOUT_MS", "3000"), "serve")) {
            p.awaitPort(START);
            assertTrue(p.output().contains("REDIS_URL is not set: running on the in-memory transport"), p.output());

            p.awaitHealth(START, r -> r.statusCode() == 200, "health 200");
            HttpResponse<String> health = p.get(ServiceMode.HEALTH_PATH);
            assertEquals("application/json", health.headers().firstValue("Content-Type").orElse(""));
            JsonNode json = new ObjectMapper().readTree(health.body());
            for (String key : SEED_KEYS) {
                assertTrue(json.has(key), () -> "health JSON lacks '" + key + "': " + json);
            }
            assertEquals("healthy", json.get("status").asText());
            assertEquals(2, json.get("workerCount").asInt());

            HttpResponse<String> metrics = p.get(ServiceMode.METRICS_PATH);
            assertEquals(200, metrics.statusCode());
            for (String name : List.of("workflow_worker_events_processed_total",
                    "workflow_worker_events_succeeded_total", "workflow_worker_events_failed_total{category=\"transient\"",
                    "workflow_worker_events_retried_total", "workflow_worker_events_dead_lettered_total",
                    "workflow_worker_events_duplicates_total", "workflow_worker_events_active",
                    "workflow_worker_workers{status=\"healthy\"", "workflow_worker_processing_seconds_bucket")) {
                assertTrue(metrics.body().contains(name), () -> "no " + name + " in\n" + metrics.body());
            }
            assertEquals(404, p.get("/nothing-here").statusCode());
            assertEquals(405, p.request(ServiceMode.HEALTH_PATH, "POST").statusCode());

            assertEquals(0, p.terminate(Duration.ofSeconds(20)), p::output);
            String out = p.output();
            assertTrue(out.contains("shutting down: draining in-flight events"), out);
            assertTrue(out.contains("drained in"), out);
            assertTrue(out.contains("workflow-worker terminated"), out);
        }
    }

    @Test
    void malformedVariableExits1NamingIt() throws Exception {
        try (ServeProcess p = ServeProcess.start(dir.resolve("bad.log"),
                Map.of("PORT", "0", "WORKER_COUNT", "many", "REDIS_URL", "redis://:hunter2@localhost:6379"),
                "serve")) {
            assertTrue(p.process.waitFor(30, TimeUnit.SECONDS), "exits at once");
            assertEquals(1, p.process.exitValue(), p::output);
            String out = p.output();
            assertTrue(out.contains("serve: invalid configuration: ") && out.contains("WORKER_COUNT"), out);
            assertTrue(!out.contains("hunter2"), "the password is never printed: " + out);
        }
    }

    @Test
    void unknownCommandPrintsUsageAndExits2() throws Exception {
        try (ServeProcess p = ServeProcess.start(dir.resolve("usage.log"), Map.of(), "launch-rockets")) {
            assertTrue(p.process.waitFor(30, TimeUnit.SECONDS), "exits at once");
            assertEquals(2, p.process.exitValue());
            String out = p.output();
            assertTrue(out.contains("unknown command 'launch-rockets'"), out);
            assertTrue(out.contains(Main.USAGE), out);
        }
    }
}
