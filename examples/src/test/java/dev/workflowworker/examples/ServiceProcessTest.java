package dev.workflowworker.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code Main serve} as a separate JVM, as an operator would, and talks to it over HTTP. */
class ServiceProcessTest {

    private static final Duration START = Duration.ofSeconds(30);
    private static final Pattern SERVING = Pattern.compile("serving on port (\\d+)");
    private static final List<String> SEED_KEYS = List.of("status", "workerCount", "healthyWorkers",
            "degradedWorkers", "unhealthyWorkers", "eventsProcessed", "eventsSucceeded", "eventsFailed",
            "activeEvents", "timestamp");

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void killLeftovers() {
        processes.forEach(Process::destroyForcibly);
    }

    /** Starts {@code Main} with the test's own classpath, so it runs before the shaded jar exists. */
    private Process java(Path log, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.equals("REDIS_URL") || k.equals("LOG_LEVEL") || k.equals("PORT"));
        pb.environment().putAll(env);
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    private HttpResponse<String> request(int port, String path, String method) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void serveAnswersHealthAndMetricsAndDrainsCleanlyOnSigterm() throws Exception {
        Path log = dir.resolve("serve.log");
        Process p = java(log, Map.of("PORT", "0", "WORKER_COUNT", "2", "SHUTDOWN_TIMEOUT_MS", "3000"), "serve");

        // PORT=0 lets the OS pick a free port; the service logs which.
        int port = -1;
        long deadline = System.nanoTime() + START.toNanos();
        while (port < 0) {
            Matcher m = SERVING.matcher(read(log));
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            } else if (!p.isAlive()) {
                throw new AssertionError("serve exited with " + p.exitValue() + " before serving:\n" + read(log));
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("serve did not report its port within " + START + ":\n" + read(log));
            } else {
                p.waitFor(50, TimeUnit.MILLISECONDS);
            }
        }
        assertTrue(read(log).contains("REDIS_URL is not set: running on the in-memory transport"), read(log));

        HttpResponse<String> health = request(port, ServiceMode.HEALTH_PATH, "GET");
        while (health.statusCode() != 200 && System.nanoTime() < deadline) {
            p.waitFor(50, TimeUnit.MILLISECONDS);
            health = request(port, ServiceMode.HEALTH_PATH, "GET");
        }
        assertEquals(200, health.statusCode(), health.body());
        assertEquals("application/json", health.headers().firstValue("Content-Type").orElse(""));
        JsonNode json = new ObjectMapper().readTree(health.body());
        for (String key : SEED_KEYS) {
            assertTrue(json.has(key), () -> "health JSON lacks '" + key + "': " + json);
        }
        assertEquals("healthy", json.get("status").asText());
        assertEquals(2, json.get("workerCount").asInt());

        HttpResponse<String> metrics = request(port, ServiceMode.METRICS_PATH, "GET");
        assertEquals(200, metrics.statusCode());
        for (String name : List.of("workflow_worker_events_processed_total", "workflow_worker_events_succeeded_total",
                "workflow_worker_events_failed_total{category=\"transient\"", "workflow_worker_events_retried_total",
                "workflow_worker_events_dead_lettered_total", "workflow_worker_events_duplicates_total",
                "workflow_worker_events_active", "workflow_worker_workers{status=\"healthy\"",
                "workflow_worker_processing_seconds_bucket")) {
            assertTrue(metrics.body().contains(name), () -> "no " + name + " in\n" + metrics.body());
        }
        assertEquals(404, request(port, "/nothing-here", "GET").statusCode());
        assertEquals(405, request(port, ServiceMode.HEALTH_PATH, "POST").statusCode());

        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), () -> "no exit within 20 s of SIGTERM:\n" + safeRead(log));
        assertEquals(0, p.exitValue(), () -> safeRead(log));
        String out = read(log);
        assertTrue(out.contains("shutting down: draining in-flight events"), out);
        assertTrue(out.contains("drained in"), out);
        assertTrue(out.contains("workflow-worker terminated"), out);
    }

    @Test
    void serveWithRedisUrlFailsClearlyWhileTheRedisTransportIsAbsent() throws Exception {
        Path log = dir.resolve("redis.log");
        Process p = java(log, Map.of("PORT", "0", "REDIS_URL", "redis://:hunter2@localhost:6379"), "serve");
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits at once");
        assertEquals(1, p.exitValue(), () -> safeRead(log));
        String out = read(log);
        assertTrue(out.contains("serve: REDIS_URL is set, but the Redis transport (worker-redis) is not available"),
                out);
        assertTrue(!out.contains("hunter2"), "the password is never printed: " + out);
    }

    @Test
    void unknownCommandPrintsUsageAndExits2() throws Exception {
        Path log = dir.resolve("usage.log");
        Process p = java(log, Map.of(), "launch-rockets");
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits at once");
        assertEquals(2, p.exitValue());
        String out = read(log);
        assertTrue(out.contains("unknown command 'launch-rockets'"), out);
        assertTrue(out.contains(Main.USAGE), out);
    }

    private static String safeRead(Path log) {
        try {
            return read(log);
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }
}
