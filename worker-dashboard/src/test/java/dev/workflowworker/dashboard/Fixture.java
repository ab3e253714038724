package dev.workflowworker.dashboard;

import com.sun.net.httpserver.HttpServer;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.redis.testsupport.RedisServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A real service on a real Redis with the dashboard mounted on the JDK HttpServer at /dashboard,
 * as the service mode does it. ORDER_SHIP fails permanently until {@link #fixOrders} is set, so a
 * dead letter can be replayed and then succeed; TICKET_CREATED always succeeds.
 */
final class Fixture implements AutoCloseable {

    static final String TOKEN = "operator-token-for-tests-0123456789";

    final AtomicBoolean fixOrders = new AtomicBoolean();
    final Queue<EventOutcome> outcomes = new ConcurrentLinkedQueue<>();
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
                        throw new PermanentWorkflowException("warehouse closed for order "
                                + ctx.payload().get("order"));
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
        http.createContext("/dashboard", new DashboardHttpHandler(dashboard));
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
