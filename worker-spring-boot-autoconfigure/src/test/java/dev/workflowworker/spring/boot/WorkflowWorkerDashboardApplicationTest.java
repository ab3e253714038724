package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.PermanentWorkflowException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.http.HttpResponse;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.workflowworker.spring.boot.WorkflowWorkerApplicationTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole Spring Boot application on a random port with the dashboard switched on at a path of its
 * own: the page and its data are served over HTTP by the embedded container.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.path=/ops/dashboard",
                "workflow.worker.poll-interval=100ms", "workflow.worker.worker-count=1"})
class WorkflowWorkerDashboardApplicationTest {

    private static final String STREAM = TestRedis.stream("dashboard-app");

    @DynamicPropertySource
    static void redis(DynamicPropertyRegistry registry) {
        TestRedis.register(registry, STREAM);
    }

    /**
     * The host application of the dashboard's application tests: TICKET_CREATED succeeds;
     * ORDER_SHIP fails for good until {@link #fixed}, so that a dead letter can be replayed and
     * then succeed.
     */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
        static final AtomicBoolean fixed = new AtomicBoolean();
        static final Set<String> shipped = ConcurrentHashMap.newKeySet();

        @WorkflowHandler("TICKET_CREATED")
        void created(EventContext ctx) {
        }

        @WorkflowHandler("ORDER_SHIP")
        void ship(EventContext ctx) {
            if (!fixed.get()) {
                throw new PermanentWorkflowException("warehouse closed");
            }
            shipped.add(ctx.event().eventId());
        }
    }

    @Autowired
    Environment environment;

    @Test
    void thePageAndItsDataAreServedAtTheConfiguredPath() throws Exception {
        String port = environment.getProperty("local.server.port");

        HttpResponse<String> mount = get(port, "/ops/dashboard");
        assertEquals(302, mount.statusCode(), mount.body());
        assertEquals("/ops/dashboard/", mount.headers().firstValue("Location").orElse(null));

        HttpResponse<String> page = get(port, "/ops/dashboard/");
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page.headers().toString());
        assertTrue(page.body().contains("<title>workflow-worker dashboard</title>"), page.body());
        assertTrue(page.body().contains("<meta name=\"actions-enabled\" content=\"false\">"), "read-only: " + page.body());
        assertTrue(page.headers().firstValue("Content-Security-Policy").isPresent(), page.headers().toString());

        HttpResponse<String> script = get(port, "/ops/dashboard/assets/app.js");
        assertEquals(200, script.statusCode());

        HttpResponse<String> overview = get(port, "/ops/dashboard/api/overview");
        assertEquals(200, overview.statusCode(), overview.body());
        assertTrue(overview.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                overview.headers().toString());
        assertTrue(overview.body().contains("\"stream\":\"" + STREAM + "\""), overview.body());
        assertTrue(overview.body().contains("\"state\":\"running\""), "started when ready: " + overview.body());
        assertTrue(overview.body().contains("\"actionsEnabled\":false"), overview.body());

        HttpResponse<String> deadLetters = get(port, "/ops/dashboard/api/dead-letters");
        assertEquals(200, deadLetters.statusCode(), deadLetters.body());

        HttpResponse<String> outside = get(port, "/dashboard/");
        assertEquals(404, outside.statusCode(), "only the configured path is mounted");
    }
}
