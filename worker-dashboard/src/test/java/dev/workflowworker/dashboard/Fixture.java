package dev.workflowworker.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpServer;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real service on a real Redis with the dashboard mounted on the JDK HttpServer at /dashboard,
 * as the service mode does it. ORDER_SHIP fails permanently until {@link #fixOrders} is set, so a
 * dead letter can be replayed and then succeed; TICKET_CREATED always succeeds.
 */
final class Fixture implements AutoCloseable {

    static final String TOKEN = "operator-token-for-tests-0123456789";
    static final Duration WAIT = Duration.ofSeconds(20);
    private static final String WAREHOUSE_CLOSED = "warehouse closed for order ";

    final AtomicBoolean fixOrders = new AtomicBoolean();
    final Queue<EventOutcome> outcomes = new ConcurrentLinkedQueue<>();
    /** Every path asked for, raw: what a servlet container would be handed. */
    final Queue<String> requestedPaths = new ConcurrentLinkedQueue<>();
    final RedisEventTransport producer;
    final WorkerService service;
    final WorkflowAdmin admin;
    final Dashboard dashboard;
    final HttpServer http;
    final String url;

    Fixture(RedisServer redis, boolean actions) throws IOException {
        this(redis, actions, 0);
    }

    Fixture(RedisServer redis, boolean actions, int partitions) throws IOException {
        RedisOptions options = redis.options().partitions(partitions).partitionLeaseTtl(Duration.ofSeconds(2)).build();
        ActionRuntime runtime = ActionRuntime.builder()
                .on("TICKET_CREATED", ctx -> { })
                .on("ORDER_SHIP", ctx -> {
                    if (!fixOrders.get()) {
                        throw new PermanentWorkflowException(WAREHOUSE_CLOSED + ctx.payload().get("order"));
                    }
                })
                .on("NOISE", ctx -> {
                    throw new PermanentWorkflowException("noise failure " + ctx.payload().get("n"));
                })
                .on("XSS_EVENT", ctx -> {
                    throw new PermanentWorkflowException(String.valueOf(ctx.payload().get("note")));
                })
                .build();
        producer = RedisEventTransport.create(options);
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(runtime)
                .workerCount(2)
                .pollInterval(Duration.ofMillis(50))
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome outcome) {
                        outcomes.add(outcome);
                    }
                })
                .build();
        service.start();
        admin = WorkflowAdmin.create(options);
        Dashboard.Builder b = Dashboard.builder().service(service).admin(admin).sampleInterval(Duration.ofMillis(250))
                .history(Duration.ofMinutes(2)).replayRatePerSecond(200);
        if (actions) {
            b.actionsEnabled(true).token(TOKEN);
        }
        dashboard = b.build();
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/dashboard", new DashboardHttpHandler(dashboard)).getFilters().add(
                Filter.beforeHandler("record the path", e -> requestedPaths.add(e.getRequestURI().getRawPath())));
        http.start();
        url = "http://127.0.0.1:" + http.getAddress().getPort() + "/dashboard/";
    }

    void publish(String type, String tenant, Map<String, ?> payload) {
        producer.publish(WorkflowEvent.builder(type).tenant(tenant).payload(payload).build());
    }

    long count(String type, EventOutcome.Kind kind) {
        return outcomes.stream().filter(o -> o.kind() == kind && o.event() != null
                && o.event().eventType().equals(type)).count();
    }

    /** Each ORDER_SHIP dead letter's id by its order, e.g. {@code O-7 -> 2/1764280000000-0}. */
    Map<String, String> orderDeadLetters() {
        Map<String, String> byOrder = new HashMap<>();
        for (RedisDeadLetters.Entry e : admin.deadLetters(null, 100)) {
            if (e.errorMessage().startsWith(WAREHOUSE_CLOSED)) {
                byOrder.put(e.errorMessage().substring(WAREHOUSE_CLOSED.length()), e.id());
            }
        }
        return byOrder;
    }

    /**
     * Waits for replayed orders to succeed, then checks each left the dead letters and went back
     * to the stream its dead letter came from: the partition its delivery names is that of its
     * dead letter ({@code 2/...} both, or plain ids both on a shared stream).
     */
    void assertReplayedWhereTheyFailed(Map<String, String> deadLetterByOrder) {
        Await.until(WAIT, () -> deadLetterByOrder.keySet().stream().allMatch(o -> succeededIn(o).isPresent()),
                "replayed orders " + deadLetterByOrder.keySet() + " to succeed");
        deadLetterByOrder.forEach((order, id) -> {
            assertEquals(partitionOf(id), succeededIn(order).orElseThrow(), "order " + order + ", dead letter " + id);
            assertTrue(admin.deadLetter(id).isEmpty(), id + " is still a dead letter");
        });
    }

    /** The partition of the delivery in which the order succeeded ("" on a shared stream), or empty. */
    private Optional<String> succeededIn(String order) {
        return outcomes.stream().filter(o -> o.kind() == EventOutcome.Kind.SUCCEEDED && o.event() != null
                && order.equals(o.event().payload().get("order"))).map(o -> partitionOf(o.deliveryId())).findFirst();
    }

    /** The partition a delivery or dead-letter id names ({@code 2/1-0 -> 2}), or "" for a plain id. */
    private static String partitionOf(String id) {
        int slash = id.indexOf('/');
        return slash < 0 ? "" : id.substring(0, slash);
    }

    /** The overview the page polls. */
    JsonNode overview() {
        try {
            return new ObjectMapper().readTree(get("api/overview").body());
        } catch (Exception e) {
            // Unchecked, so that an Await condition can read it.
            throw new IllegalStateException("could not read the overview", e);
        }
    }

    HttpResponse<String> post(String path, Map<String, String> headers, String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(url + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(10));
        headers.forEach(r::header);
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        http.stop(0);
        dashboard.close();
        service.close();
        admin.close();
        producer.close();
    }
}
