package dev.workflowworker.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.TransientWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerConfig;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.dashboard.Dashboard;
import dev.workflowworker.dashboard.DashboardHttpHandler;
import dev.workflowworker.micrometer.WorkflowWorkerMetrics;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * The service mode ({@code java -jar workflow-worker-examples.jar serve}), the counterpart of the
 * Alga PSA Workflow Worker Service's "production mode": a {@link WorkerService} configured from the environment (the engine by
 * {@link WorkerConfig#fromEnvironment(Map)}, Redis by {@link RedisOptions#fromEnvironment(Map)})
 * with a small demo {@link ActionRuntime}, and an HTTP
 * server on {@code PORT} (default {@value #DEFAULT_PORT}; {@code 0} picks a free port) serving
 *
 * <ul>
 *   <li>{@code GET /api/health/worker}: the health snapshot's JSON, 200 when healthy or degraded,
 *       503 when unhealthy;</li>
 *   <li>{@code GET /metrics}: Prometheus text of {@link WorkflowWorkerMetrics} and JVM metrics;</li>
 *   <li>{@code /dashboard/}: the operator's {@link Dashboard}, read-only unless
 *       {@code DASHBOARD_ACTIONS=true} with a {@code DASHBOARD_TOKEN}.</li>
 * </ul>
 *
 * Other paths answer 404 and other methods 405. {@link #drain()} is what SIGTERM runs: stop reading,
 * let in-flight events finish within {@code SHUTDOWN_TIMEOUT_MS}, hand back the rest, stop the
 * HTTP server.
 */
public final class ServiceMode {

    private static final Logger log = LoggerFactory.getLogger(ServiceMode.class);

    /** The port served when {@code PORT} is unset. */
    public static final int DEFAULT_PORT = 4000;
    /** The health endpoint's path, as in the Alga PSA Workflow Worker Service. */
    public static final String HEALTH_PATH = "/api/health/worker";
    /** The Prometheus endpoint's path. */
    public static final String METRICS_PATH = "/metrics";
    /** The dashboard's mount point. */
    public static final String DASHBOARD_PATH = "/dashboard";
    /** How much longer than the shutdown timeout a drain waits for the service to terminate. */
    static final Duration DRAIN_MARGIN = Duration.ofSeconds(5);

    private static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final WorkerService service;
    private final WorkflowWorkerMetrics metrics;
    private final HttpServer http;
    private final Dashboard dashboard;
    private final WorkflowAdmin admin;

    private ServiceMode(WorkerService service, WorkflowWorkerMetrics metrics, HttpServer http, Dashboard dashboard,
                        WorkflowAdmin admin) {
        this.service = service;
        this.metrics = metrics;
        this.http = http;
        this.dashboard = dashboard;
        this.admin = admin;
    }

    /**
     * Builds the service from the environment, starts it and starts serving.
     *
     * @param env the environment ({@code System.getenv()} in the jar)
     * @return the running service mode
     * @throws StartupException if a variable is malformed, the transport is not available or the
     *     port cannot be bound; the message says which
     */
    public static ServiceMode start(Map<String, String> env) {
        WorkerConfig config;
        RedisOptions redis;
        int port;
        Dashboard.Builder dashboardSettings;
        try {
            config = WorkerConfig.fromEnvironment(env);
            redis = redisOptions(env);
            port = port(env);
            dashboardSettings = Dashboard.builder().fromEnvironment(env);
        } catch (IllegalArgumentException e) {
            // Neither options class puts a password in its messages.
            throw new StartupException("invalid configuration: " + e.getMessage(), e);
        }
        EventTransport transport = transport(redis);
        WorkerService service = WorkerService.builder()
                .config(config)
                .transport(transport)
                .runtime(demoRuntime())
                .listener(new TimingLog())
                .build();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Bound before start so the counters see every outcome (see WorkflowWorkerMetrics).
        WorkflowWorkerMetrics metrics = new WorkflowWorkerMetrics(service);
        metrics.bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        HttpServer http;
        try {
            http = startHttp(new InetSocketAddress(port), service::health, registry::scrape);
        } catch (IOException e) {
            service.close();
            throw new StartupException("cannot serve on port " + port + ": " + e.getMessage(), e);
        }
        service.start();
        // The admin has its own connections: a dashboard reading dead letters never competes with the workers' pool.
        WorkflowAdmin admin = redis == null ? null : WorkflowAdmin.create(redis);
        Dashboard dashboard;
        try {
            dashboard = dashboardSettings.service(service).admin(admin).build();
        } catch (IllegalStateException e) {
            if (admin != null) {
                admin.close();
            }
            http.stop(0);
            service.close();
            throw new StartupException("invalid configuration: " + e.getMessage(), e);
        }
        http.createContext(DASHBOARD_PATH, new DashboardHttpHandler(dashboard));
        log.info("serving on port {}: GET {}, GET {} and the dashboard at {}/ ({})", http.getAddress().getPort(),
                HEALTH_PATH, METRICS_PATH, DASHBOARD_PATH, dashboard.actionsEnabled() ? "actions enabled" : "read-only");
        return new ServiceMode(service, metrics, http, dashboard, admin);
    }

    /**
     * The Redis options of the environment, or null without {@code REDIS_URL}.
     *
     * @throws IllegalArgumentException if a variable is malformed, or if {@code WORKER_STREAM},
     *     {@code WORKER_GROUP} or {@code WORKER_PARTITIONS} is set without {@code REDIS_URL}: the
     *     in-memory transport (ordered, with no partitions to count) could not
     *     honour them, and silently ignoring them would hide a missing {@code REDIS_URL}
     */
    static RedisOptions redisOptions(Map<String, String> env) {
        if (isBlank(env.get("REDIS_URL"))) {
            for (String name : new String[] {"WORKER_STREAM", "WORKER_GROUP", "WORKER_PARTITIONS"}) {
                if (!isBlank(env.get(name))) {
                    throw new IllegalArgumentException(name + "=" + env.get(name)
                            + " needs REDIS_URL: without it the service runs on the in-memory transport");
                }
            }
            return null;
        }
        return RedisOptions.fromEnvironment(env);
    }

    /** {@return the mode in words, for the first lines an operator reads} */
    static String mode(RedisOptions redis) {
        return redis.partitioned()
                ? redis.partitions() + " partitions, ordered per execution (dead letters in each partition's :dlq)"
                : "one shared stream, unordered (WORKER_PARTITIONS=0; dead letters in " + redis.deadLetterStream() + ")";
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    /** Redis Streams when the environment names Redis, else the in-memory transport. */
    static EventTransport transport(RedisOptions redis) {
        if (redis == null) {
            log.warn("REDIS_URL is not set: running on the in-memory transport; events live in this JVM only, "
                    + "are lost on restart and cannot be published by other processes");
            return InMemoryEventTransport.create();
        }
        log.info("using Redis at {}, stream {}, group {}, {}", redis.endpoint(), redis.stream(), redis.group(),
                mode(redis));
        return RedisEventTransport.create(redis);
    }

    private static int port(Map<String, String> env) {
        String raw = env.get("PORT");
        if (raw == null || raw.isBlank()) {
            return DEFAULT_PORT;
        }
        try {
            int port = Integer.parseInt(raw.trim());
            if (port < 0 || port > 65_535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("PORT must be a port number (0-65535), got '" + raw + "'");
        }
    }

    /**
     * The demo actions: a ticket notification, an e-mail that sometimes meets a flaky SMTP server,
     * and a report that takes {@code duration_ms} to generate and stops when cancelled (so a drain
     * hands it back rather than waiting it out), unless its payload says {@code uninterruptible}.
     */
    static ActionRuntime demoRuntime() {
        return ActionRuntime.builder()
                .on("REPORT_GENERATE", ctx -> {
                    if (!(ctx.payload().get("duration_ms") instanceof Number n)) {
                        throw new PermanentWorkflowException("duration_ms must be a number");
                    }
                    long durationMs = n.longValue();
                    // A report marked uninterruptible runs to the end even through a shutdown, which
                    // then waits for it (up to SHUTDOWN_TIMEOUT_MS) instead of handing it back.
                    boolean uninterruptible = Boolean.TRUE.equals(ctx.payload().get("uninterruptible"));
                    long end = System.nanoTime() + durationMs * 1_000_000;
                    while (System.nanoTime() < end) {
                        if (!uninterruptible) {
                            ctx.throwIfCancelled();
                        }
                        Thread.sleep(Math.min(50, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
                    }
                    log.info("report {} generated in {} ms", ctx.payload().get("report"), durationMs);
                }, "duration_ms")
                .on("TICKET_CREATED", ctx -> log.info("ticket {} created (tenant {})",
                        ctx.payload().get("ticket_id"), ctx.event().tenant()), "ticket_id")
                .on("EMAIL_SEND", ctx -> {
                    if (ThreadLocalRandom.current().nextInt(10) == 0) {
                        throw new TransientWorkflowException("SMTP connection reset");
                    }
                    log.info("e-mail to {} sent (key {})", ctx.payload().get("to"), ctx.idempotencyKey());
                }, "to")
                .build();
    }

    /**
     * The status code of the health endpoint, as in the Alga PSA Workflow Worker Service: load balancers keep a
     * degraded instance in rotation and take an unhealthy one out.
     *
     * @param status the service's health
     * @return 200 for healthy or degraded, 503 for unhealthy
     */
    static int httpStatus(HealthStatus status) {
        return status == HealthStatus.UNHEALTHY ? 503 : 200;
    }

    /**
     * Starts the HTTP server. Separate from {@link #start} so that the routing is testable
     * against any health source.
     */
    static HttpServer startHttp(InetSocketAddress address, Supplier<HealthSnapshot> health,
                                Supplier<String> prometheus) throws IOException {
        HttpServer server = HttpServer.create(address, 0);
        // One context for all paths: HttpServer matches contexts by prefix, and /api/health/worker/x is not ours.
        server.createContext("/", exchange -> {
            try {
                route(exchange, health, prometheus);
            } catch (RuntimeException e) {
                log.error("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                send(exchange, 500, "application/json", "{\"error\":\"internal error\"}");
            } finally {
                exchange.close();
            }
        });
        server.start();
        return server;
    }

    private static void route(HttpExchange exchange, Supplier<HealthSnapshot> health, Supplier<String> prometheus)
            throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (!HEALTH_PATH.equals(path) && !METRICS_PATH.equals(path)) {
            send(exchange, 404, "application/json", "{\"error\":\"not found\"}");
            return;
        }
        if (!"GET".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Allow", "GET");
            send(exchange, 405, "application/json", "{\"error\":\"method not allowed\"}");
            return;
        }
        if (HEALTH_PATH.equals(path)) {
            HealthSnapshot snapshot = health.get();
            send(exchange, httpStatus(snapshot.status()), "application/json", snapshot.toJson());
        } else {
            send(exchange, 200, PROMETHEUS_CONTENT_TYPE, prometheus.get());
        }
    }

    private static void send(HttpExchange exchange, int code, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** @return the port being served (useful with {@code PORT=0}) */
    public int port() {
        return http.getAddress().getPort();
    }

    /** @return the running service */
    public WorkerService service() {
        return service;
    }

    /**
     * Drains and stops: the service stops reading, in-flight events finish within
     * {@code SHUTDOWN_TIMEOUT_MS} and the rest is handed back; the health endpoint keeps answering
     * (unhealthy) meanwhile so load balancers see the instance leave; then the HTTP server stops.
     *
     * @return true if the service terminated in time
     */
    public boolean drain() {
        long t0 = System.nanoTime();
        log.info("shutting down: draining in-flight events (up to {} ms)", service.config().shutdownTimeout().toMillis());
        service.shutdown();
        boolean terminated;
        try {
            terminated = service.awaitTermination(service.config().shutdownTimeout().plus(DRAIN_MARGIN));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            terminated = false;
        }
        http.stop(0);
        dashboard.close();
        if (admin != null) {
            admin.close();
        }
        metrics.close();
        HealthSnapshot h = service.health();
        if (terminated) {
            log.info("drained in {} ms: processed={} succeeded={} failed={} deadLettered={}",
                    (System.nanoTime() - t0) / 1_000_000, h.eventsProcessed(), h.eventsSucceeded(), h.eventsFailed(),
                    h.eventsDeadLettered());
        } else {
            log.error("not drained within {} ms; {} events still active", service.config().shutdownTimeout()
                    .plus(DRAIN_MARGIN).toMillis(), h.activeEvents());
        }
        return terminated;
    }

    /** Per-event timing at debug level ({@code LOG_LEVEL=debug}). */
    private static final class TimingLog implements WorkerListener {
        @Override
        public void onOutcome(EventOutcome o) {
            if (log.isDebugEnabled()) {
                log.debug("event {} ({}) {} on attempt {} in {} ms", o.event() == null ? o.deliveryId()
                                : o.event().eventId(), o.event() == null ? "malformed" : o.event().eventType(),
                        o.kind(), o.attempt(), String.format("%.3f", o.processingTime().toNanos() / 1e6));
            }
        }
    }

    /** The service mode could not start; the message is meant for the operator. */
    public static final class StartupException extends RuntimeException {
        StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
