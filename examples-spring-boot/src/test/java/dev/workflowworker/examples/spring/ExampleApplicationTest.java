package dev.workflowworker.examples.spring;

import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spring Boot guide's example (docs/spring-boot.md) is this module's application, and it runs:
 * handlers, health and Prometheus metrics over HTTP, on a real Redis.
 */
@SpringBootTest(classes = ExampleApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "management.prometheus.metrics.export.enabled=true")
class ExampleApplicationTest {

    private static RedisServer redis;
    private static final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private static PrintStream original;

    @BeforeAll
    static void captureOut() {
        original = System.out;
        System.setOut(new PrintStream(new TeeStream(original, out), true, StandardCharsets.UTF_8));
    }

    @AfterAll
    static void restore() throws Exception {
        System.setOut(original);
        if (redis != null) {
            redis.close();
        }
    }

    @DynamicPropertySource
    static void redis(DynamicPropertyRegistry registry) {
        redis = RedisServerExtension.provide();
        registry.add("workflow.worker.redis.url", redis::uri);
    }

    @Autowired
    Environment environment;
    @Autowired
    EventPublisher publisher;

    @Test
    void springBootGuideShowsThisApplication() throws Exception {
        String source = Files.readString(Path.of("src/main/java/dev/workflowworker/examples/spring/ExampleApplication.java"));
        String guide = Files.readString(Path.of("../docs/spring-boot.md"));
        int marker = guide.indexOf("<!-- spring-boot-example -->");
        assertTrue(marker >= 0, "docs/spring-boot.md has no <!-- spring-boot-example --> marker");
        int start = guide.indexOf("```java", marker) + "```java".length();
        assertEquals(source.strip(), guide.substring(start, guide.indexOf("```", start)).strip(),
                "docs/spring-boot.md's Spring Boot example drifted from ExampleApplication.java");
    }

    @Test
    void handlersRunAndHealthAndMetricsAreServed() throws Exception {
        String port = environment.getProperty("local.server.port");
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri(port, "/tickets?id=T-42"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, created.statusCode(), created.body());
        publisher.publish(WorkflowEvent.builder("INVOICE_DUE").executionId("inv-1")
                .payload(Map.of("customerId", "C-7", "amountCents", 1999)).build());
        Await.until(Duration.ofSeconds(10), () -> {
            String s = out.toString(StandardCharsets.UTF_8);
            return s.contains("ticket T-42 (attempt 1)") && s.contains("charging C-7 key=inv-1:");
        }, "both handlers ran");

        HttpResponse<String> health = send(HttpRequest.newBuilder(uri(port, "/actuator/health")));
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("\"workflowWorker\":{"), health.body());
        HttpResponse<String> metrics = send(HttpRequest.newBuilder(uri(port, "/actuator/prometheus")));
        assertEquals(200, metrics.statusCode(), metrics.body());
        assertTrue(metrics.body().contains("workflow_worker_events_succeeded_total{stream=\"example:events\"} 2.0"),
                metrics.body());
    }

    private static URI uri(String port, String path) {
        return URI.create("http://localhost:" + port + path);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Writes to the console and to the capture. */
    private static final class TeeStream extends java.io.OutputStream {
        private final PrintStream console;
        private final ByteArrayOutputStream capture;

        TeeStream(PrintStream console, ByteArrayOutputStream capture) {
            this.console = console;
            this.capture = capture;
        }

        @Override
        public synchronized void write(int b) {
            console.write(b);
            capture.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            console.write(b, off, len);
            capture.write(b, off, len);
        }
    }
}
