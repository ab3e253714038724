package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole Spring Boot application on a random port with actuator and Prometheus: the workers start
 * when it is ready, health and metrics are served over HTTP.
 * The application needs nothing but the dependency, the Redis URL and an annotated handler;
 * {@link GracefulShutdownTest} covers shutdown.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.endpoints.web.exposure.include=health,prometheus",
                "management.endpoint.health.show-details=always",
                // Boot's tests switch metrics export off unless asked
                "management.prometheus.metrics.export.enabled=true", "workflow.worker.poll-interval=100ms"})
class WorkflowWorkerApplicationTest {

    @DynamicPropertySource
    static void redis(DynamicPropertyRegistry registry) {
        TestRedis.register(registry, TestRedis.stream("app"));
    }

    /** The host application: one annotated handler. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
        final CountDownLatch handled = new CountDownLatch(1);

        @WorkflowHandler("TICKET_CREATED")
        void created(EventContext ctx) {
            handled.countDown();
        }
    }

    @Autowired
    Environment environment;
    @Autowired
    WorkerService service;
    @Autowired
    EventPublisher publisher;
    @Autowired
    App app;

    @Test
    void theWorkersStartWhenReadyAndHealthAndMetricsAreServed() throws Exception {
        assertEquals(WorkerService.State.RUNNING, service.state(), "started on ApplicationReadyEvent");
        publisher.publish(WorkflowEvent.builder("TICKET_CREATED").build());
        assertTrue(app.handled.await(10, TimeUnit.SECONDS));

        String port = environment.getProperty("local.server.port");
        HttpResponse<String> health = get(port, "/actuator/health");
        assertEquals(200, health.statusCode(), health.body());
        String component = component(health.body(), "workflowWorker");
        assertTrue(component.contains("\"status\":\"UP\""), component);
        assertTrue(component.contains("\"status\":\"healthy\""), "the snapshot as details: " + component);
        assertTrue(component.contains("\"workerCount\":"), component);
        assertTrue(component.contains("\"stream\":\"spring-test:app:"), component);

        HttpResponse<String> metrics = get(port, "/actuator/prometheus");
        assertEquals(200, metrics.statusCode(), metrics.body());
        assertTrue(metrics.body().contains("workflow_worker_events_processed_total"), metrics.body());
        assertTrue(metrics.body().contains("workflow_worker_workers{"), metrics.body());
    }

    /** {@return the JSON object of one health component; Boot 3 and 4 order its keys differently} */
    static String component(String health, String name) {
        int start = health.indexOf("\"" + name + "\":{");
        assertTrue(start >= 0, "no " + name + " component: " + health);
        int open = health.indexOf('{', start);
        int depth = 0;
        for (int i = open; i < health.length(); i++) {
            char c = health.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return health.substring(open, i + 1);
            }
        }
        throw new AssertionError("unbalanced JSON: " + health);
    }

    static HttpResponse<String> get(String port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

}
