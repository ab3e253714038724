package com.example.orders;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkflowEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import redis.clients.jedis.Jedis;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The application starts on Boot's own dependency management, handles events in order per order id
 * on a real Redis, and serves health and Prometheus metrics over HTTP.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "management.prometheus.metrics.export.enabled=true")
class OrdersApplicationTest {

    private static final int ORDERS = 4;
    private static final int STEPS = 25;
    private static final String STREAM = "orders:" + UUID.randomUUID();

    private static LocalRedis redis;

    @DynamicPropertySource
    static void redis(DynamicPropertyRegistry registry) throws Exception {
        redis = LocalRedis.start();
        registry.add("workflow.worker.redis.url", redis::url);
        registry.add("workflow.worker.redis.stream", () -> STREAM);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    @Autowired
    Environment environment;
    @Autowired
    EventPublisher publisher;
    @Autowired
    OrdersApplication.Ledger ledger;

    @Test
    void handlesEventsInOrderAndServesHealthAndMetrics() throws Exception {
        for (int step = 1; step <= STEPS; step++) {
            for (int order = 0; order < ORDERS; order++) {
                publisher.publish(WorkflowEvent.builder("ORDER_STEP").executionId("order-" + order)
                        .payload(Map.of("order_id", "order-" + order, "step", step)).build());
            }
        }
        // Awaitility comes with spring-boot-starter-test, as in any Boot application's tests.
        await("every step of every order handled").atMost(Duration.ofSeconds(30))
                .until(() -> ledger.steps().values().stream().mapToInt(List::size).sum() >= ORDERS * STEPS);
        List<Integer> inOrder = IntStream.rangeClosed(1, STEPS).boxed().toList();
        for (int order = 0; order < ORDERS; order++) {
            assertEquals(inOrder, ledger.steps().get("order-" + order), "steps of order-" + order);
        }

        HttpResponse<String> health = get("/actuator/health");
        assertEquals(200, health.statusCode(), health.body());
        JsonNode body = new ObjectMapper().readTree(health.body());
        assertEquals("UP", body.path("status").asText(), health.body());
        JsonNode worker = body.path("components").path("workflowWorker");
        assertEquals("UP", worker.path("status").asText(), health.body());
        assertEquals(ORDERS * STEPS, worker.path("details").path("eventsSucceeded").asInt(), health.body());

        HttpResponse<String> metrics = get("/actuator/prometheus");
        assertEquals(200, metrics.statusCode(), metrics.body());
        assertTrue(metrics.body().contains("workflow_worker_events_succeeded_total{stream=\"" + STREAM + "\"} "
                + (double) (ORDERS * STEPS)), metrics.body());
    }

    /**
     * The application's own Jedis is the one Boot manages (older than the one the library uses
     * inside its jar), and both talk to Redis side by side.
     */
    @Test
    void theHostKeepsItsOwnJedis() {
        String jar = Jedis.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        String expected = System.getProperty("host.jedis.version");
        assertFalse(expected == null || expected.isBlank(), "the POM passes host.jedis.version");
        assertTrue(jar.endsWith("jedis-" + expected + ".jar"), jar);
        try (Jedis jedis = new Jedis(redis.uri())) {
            assertEquals("PONG", jedis.ping());
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        URI uri = URI.create("http://localhost:" + environment.getProperty("local.server.port") + path);
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
