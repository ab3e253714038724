package dev.workflowworker.spring.boot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.dashboard.Dashboard;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.workflowworker.spring.boot.WorkflowWorkerApplicationTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard in a Spring Boot application on the embedded servlet container, over a stream of 4
 * partitions: a dead letter's id names its partition ({@code 3/1796...-0}), and the page asks for
 * it with the slash as it is (a container refuses {@code %2F} in a path by default), so the
 * container must hand that path to the dashboard whole. Listed, opened and replayed with the
 * operator token, the page's CSRF token and same-origin headers, as the page sends them.
 */
@SpringBootTest(classes = WorkflowWorkerDashboardApplicationTest.App.class,
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.actions=true",
                "workflow.worker.dashboard.token=" + WorkflowWorkerDashboardPartitionedApplicationTest.TOKEN,
                "workflow.worker.redis.partitions=4", "workflow.worker.poll-interval=100ms",
                "workflow.worker.worker-count=1"})
class WorkflowWorkerDashboardPartitionedApplicationTest {

    static final String TOKEN = "operator-token-for-spring-tests";
    private static final String STREAM = TestRedis.stream("dashboard-partitioned");
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    @DynamicPropertySource
    static void redis(DynamicPropertyRegistry registry) {
        TestRedis.register(registry, STREAM);
    }

    @Autowired
    Environment environment;
    @Autowired
    EventPublisher publisher;

    @Test
    void aDeadLetterOfAPartitionIsListedOpenedByItsSlashPathAndReplayed() throws Exception {
        String port = environment.getProperty("local.server.port");
        publisher.publish(WorkflowEvent.builder("ORDER_SHIP").eventId("order-1").executionId("order-1").build());
        Await.until(WAIT, () -> items(port).size() == 1, "the order to be dead-lettered");

        String id = items(port).get(0).get("id").asText();
        assertTrue(id.matches("[0-3]/\\d+-\\d+"), "a partition's dead-letter id: " + id);
        HttpResponse<String> shown = get(port, "/dashboard/api/dead-letters/" + id);
        assertEquals(200, shown.statusCode(), shown.body());
        JsonNode detail = JSON.readTree(shown.body());
        assertEquals(id, detail.get("id").asText());
        assertEquals("order-1", detail.get("summary").get("eventId").asText(), shown.body());
        assertEquals("warehouse closed", detail.get("summary").get("error").asText(), shown.body());

        WorkflowWorkerDashboardApplicationTest.App.fixed.set(true);
        String ids = "{\"ids\":[\"" + id + "\"]}";
        HttpResponse<String> refused = post(port, "/dashboard/api/dead-letters/replay", TOKEN + "x", ids);
        assertEquals(401, refused.statusCode(), refused.body());
        HttpResponse<String> replayed = post(port, "/dashboard/api/dead-letters/replay", TOKEN, ids);
        assertEquals(200, replayed.statusCode(), replayed.body());
        assertEquals(id, JSON.readTree(replayed.body()).get("replayed").get(0).asText(), replayed.body());
        Await.until(WAIT, () -> WorkflowWorkerDashboardApplicationTest.App.shipped.contains("order-1"), "the replayed order to succeed");
        assertEquals(404, get(port, "/dashboard/api/dead-letters/" + id).statusCode(), "no longer a dead letter");
    }

    private static JsonNode items(String port) {
        try {
            HttpResponse<String> page = get(port, "/dashboard/api/dead-letters");
            assertEquals(200, page.statusCode(), page.body());
            return JSON.readTree(page.body()).get("items");
        } catch (Exception e) {
            // Unchecked, so that an Await condition can read it.
            throw new IllegalStateException("could not list the dead letters", e);
        }
    }

    /** A POST as the page sends it: its CSRF token, an operator token, from the page's own origin. */
    private static HttpResponse<String> post(String port, String path, String token, String body) throws Exception {
        HttpResponse<String> page = get(port, "/dashboard/");
        Matcher csrf = Pattern.compile("name=\"csrf-token\" content=\"([^\"]+)\"").matcher(page.body());
        assertTrue(csrf.find(), "the page carries a CSRF token: " + page.body());
        Map<String, String> headers = Map.of("Content-Type", "application/json", Dashboard.CSRF_HEADER, csrf.group(1),
                Dashboard.TOKEN_HEADER, token, "Origin", "http://localhost:" + port, "Sec-Fetch-Site", "same-origin");
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(10));
        headers.forEach(r::header);
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }
}
