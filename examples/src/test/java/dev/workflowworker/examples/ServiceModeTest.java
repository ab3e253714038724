package dev.workflowworker.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceModeTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Runnable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        cleanup.forEach(Runnable::run);
    }

    private HttpResponse<String> get(int port, String path) {
        return send(port, path, "GET");
    }

    /** Unchecked, so that an {@link Await} condition can send it. */
    private HttpResponse<String> send(int port, String path, String method) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).method(method, HttpRequest.BodyPublishers.noBody()).build();
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Test
    void healthyAndDegradedAnswer200AndUnhealthy503() {
        assertEquals(200, ServiceMode.httpStatus(HealthStatus.HEALTHY));
        assertEquals(200, ServiceMode.httpStatus(HealthStatus.DEGRADED));
        assertEquals(503, ServiceMode.httpStatus(HealthStatus.UNHEALTHY));
    }

    @Test
    void healthEndpointAnswers503ForAnUnhealthyServiceAnd200OnceItRuns() throws Exception {
        WorkerService service = WorkerService.builder().runtime(ServiceMode.demoRuntime()).workerCount(1).build();
        cleanup.add(service::shutdownNow);
        HttpServer http = ServiceMode.startHttp(new InetSocketAddress("127.0.0.1", 0), service::health, () -> "");
        cleanup.add(() -> http.stop(0));
        int port = http.getAddress().getPort();

        // Not started: no worker runs, so the service is unhealthy.
        HttpResponse<String> down = get(port, ServiceMode.HEALTH_PATH);
        assertEquals(503, down.statusCode());
        assertEquals("application/json", down.headers().firstValue("Content-Type").orElse(""));
        assertEquals("unhealthy", new ObjectMapper().readTree(down.body()).get("status").asText());

        service.start();
        Await.until(WAIT, () -> get(port, ServiceMode.HEALTH_PATH).statusCode() == 200, "health 200 after start");
        JsonNode up = new ObjectMapper().readTree(get(port, ServiceMode.HEALTH_PATH).body());
        assertEquals("healthy", up.get("status").asText());
        assertEquals(1, up.get("workerCount").asInt());
    }

    @Test
    void otherPathsAre404AndOtherMethods405() throws Exception {
        HttpServer http = ServiceMode.startHttp(new InetSocketAddress("127.0.0.1", 0),
                () -> { throw new AssertionError("health must not be read"); }, () -> "# nothing\n");
        cleanup.add(() -> http.stop(0));
        int port = http.getAddress().getPort();
        assertEquals(404, get(port, "/").statusCode());
        assertEquals(404, get(port, "/api/health/worker/extra").statusCode());
        assertEquals(404, get(port, "/api/health").statusCode());
        HttpResponse<String> post = send(port, ServiceMode.METRICS_PATH, "POST");
        assertEquals(405, post.statusCode());
        assertEquals("GET", post.headers().firstValue("Allow").orElse(""));
        assertEquals(405, send(port, ServiceMode.HEALTH_PATH, "DELETE").statusCode());
        assertEquals(200, get(port, ServiceMode.METRICS_PATH).statusCode());
    }

    @Test
    void servesPrometheusMetricsOfProcessedEventsAndDrains() throws Exception {
        ServiceMode mode = ServiceMode.start(Map.of("PORT", "0", "WORKER_COUNT", "1", "POLL_INTERVAL_MS", "50",
                "SHUTDOWN_TIMEOUT_MS", "2000"));
        cleanup.add(mode::drain);
        mode.service().publisher().publish(WorkflowEvent.builder("TICKET_CREATED")
                .payload(Map.of("ticket_id", "T-1")).build());
        mode.service().publisher().publish(WorkflowEvent.builder("TICKET_CREATED").payload(Map.of()).build());
        Await.until(WAIT, () -> get(mode.port(), ServiceMode.METRICS_PATH).body()
                        .contains("workflow_worker_events_dead_lettered_total{category=\"permanent\",stream=\"workflow:events:global\"} 1.0"),
                "the event without ticket_id dead-lettered, as metrics show");

        HttpResponse<String> metrics = get(mode.port(), ServiceMode.METRICS_PATH);
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        String body = metrics.body();
        assertTrue(body.contains("workflow_worker_events_succeeded_total{stream=\"workflow:events:global\"} 1.0"), body);
        assertTrue(body.contains("workflow_worker_events_processed_total{stream=\"workflow:events:global\"} 2.0"), body);
        assertTrue(body.contains("workflow_worker_processing_seconds_bucket{"), body);
        assertTrue(body.contains("# TYPE workflow_worker_processing_seconds histogram"), body);
        assertTrue(body.contains("jvm_memory_used_bytes"), body);

        assertTrue(mode.drain(), "drained in time");
        assertEquals(WorkerService.State.TERMINATED, mode.service().state());
        assertThrows(UncheckedIOException.class, () -> get(mode.port(), ServiceMode.HEALTH_PATH), "the server is closed");
    }

    @Test
    void malformedRedisUrlFailsClearlyWithoutLeakingThePassword() {
        ServiceMode.StartupException e = assertThrows(ServiceMode.StartupException.class,
                () -> ServiceMode.start(Map.of("PORT", "0", "REDIS_URL", "redis://:s3cret@redis.internal:port")));
        assertTrue(e.getMessage().startsWith("invalid configuration: REDIS_URL=redis://***@redis.internal:port is invalid"),
                e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    @Test
    void streamOrGroupWithoutRedisUrlIsRefusedRatherThanIgnored() {
        for (String name : List.of("WORKER_STREAM", "WORKER_GROUP", "WORKER_PARTITIONS")) {
            ServiceMode.StartupException e = assertThrows(ServiceMode.StartupException.class,
                    () -> ServiceMode.start(Map.of("PORT", "0", name, "orders")));
            assertTrue(e.getMessage().startsWith("invalid configuration: " + name + "=orders needs REDIS_URL"),
                    e.getMessage());
        }
    }

    @Test
    void malformedVariablesFailNamingTheVariable() {
        ServiceMode.StartupException port = assertThrows(ServiceMode.StartupException.class,
                () -> ServiceMode.start(Map.of("PORT", "http")));
        assertTrue(port.getMessage().contains("PORT") && port.getMessage().contains("'http'"), port.getMessage());
        ServiceMode.StartupException workers = assertThrows(ServiceMode.StartupException.class,
                () -> ServiceMode.start(Map.of("PORT", "0", "WORKER_COUNT", "many")));
        assertTrue(workers.getMessage().contains("WORKER_COUNT"), workers.getMessage());
    }
}
