package dev.workflowworker.dashboard;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.WorkflowAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The operator's web page for one {@link WorkerService}: overall health and each worker, the
 * stream's length, lag, pending entries, retries waiting and oldest pending age, throughput and
 * failures over the last minutes, recent outcomes, and the dead letters with search, paging, the
 * full entry and its stack, the recurring schedules and the delayed events waiting (on a
 * transport that keeps them). With actions enabled it also replays (one, selected, or all at a
 * limited rate), purges, pauses, resumes and scales, and pauses, resumes, triggers and deletes
 * a schedule.
 *
 * <p>It answers plain {@link DashboardRequest}s, so it runs under any server: mount it with
 * {@link DashboardHttpHandler} on the JDK's {@code HttpServer}, with {@link DashboardServlet} in a
 * servlet container, or with a few lines of glue elsewhere. Every URL the page uses is relative,
 * so any mount point works.
 *
 * <pre>{@code
 * Dashboard dashboard = Dashboard.builder()
 *         .service(service)
 *         .admin(WorkflowAdmin.create(redisOptions))   // dead letters and queue stats
 *         .actionsEnabled(true)
 *         .token(System.getenv("DASHBOARD_TOKEN"))
 *         .build();
 * httpServer.createContext("/dashboard", new DashboardHttpHandler(dashboard));
 * }</pre>
 *
 * <h2>Security</h2>
 * Read-only unless {@linkplain Builder#actionsEnabled(boolean) actions are enabled}. An action is
 * a {@code POST} that must carry the operator token in {@value #TOKEN_HEADER} (compared in
 * constant time), or come from a user the host authenticated when
 * {@linkplain Builder#trustHostAuthentication(boolean) host authentication is trusted}. Against
 * cross-site requests every action must also carry the page's CSRF token in
 * {@value #CSRF_HEADER} (a custom header a cross-site form cannot send, holding a secret a
 * cross-site script cannot read), and is refused when the browser says it came from another site
 * ({@code Sec-Fetch-Site}) or another origin ({@code Origin}). Every action is logged with who
 * did it and what. The page inserts event data with {@code textContent} only and is served with
 * a Content-Security-Policy that allows no inline script.
 *
 * <p>Thread-safe. {@link #close()} stops its sampling thread; it closes neither the service nor
 * the admin.
 */
public final class Dashboard implements AutoCloseable {

    /** The request header carrying the operator token. */
    public static final String TOKEN_HEADER = "X-Dashboard-Token";
    /** The request header carrying the page's CSRF token. */
    public static final String CSRF_HEADER = "X-Dashboard-Csrf";
    /** How often the throughput history is sampled unless set. */
    public static final Duration DEFAULT_SAMPLE_INTERVAL = Duration.ofSeconds(5);
    /** How far back the throughput chart reaches unless set. */
    public static final Duration DEFAULT_HISTORY = Duration.ofMinutes(15);
    /** Dead letters replayed per second by "replay all" unless set. */
    public static final int DEFAULT_REPLAY_RATE = 50;
    /** Dead letters one search request reads at most unless set. */
    public static final int DEFAULT_SEARCH_BUDGET = 500;

    private static final Logger log = LoggerFactory.getLogger(Dashboard.class);

    private final WorkerService service;
    private final String csrf;
    private final ThroughputHistory history;
    private final OutcomeLog outcomes;
    private final Map<String, byte[]> assets;
    private final ScheduledExecutorService sampler;
    private final ExecutorService replayer;
    private final DashboardActions actions;
    private final DashboardReadApi readApi;

    private Dashboard(Builder b) {
        this.service = b.service;
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.csrf = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        int samples = (int) Math.max(2, b.history.toMillis() / b.sampleInterval.toMillis() + 1);
        this.history = new ThroughputHistory(samples);
        this.outcomes = new OutcomeLog(50, b.clock);
        this.assets = Map.of("index.html", asset("index.html"), "app.js", asset("app.js"), "app.css", asset("app.css"));
        this.replayer = Executors.newSingleThreadExecutor(r -> daemon(r, "workflow-worker-dashboard-replay"));
        DashboardSchedules schedules = new DashboardSchedules(service);
        this.actions = new DashboardActions(service, b.admin, schedules, b.actionsEnabled, b.token,
                b.trustHostAuthentication, b.replayRate, csrf, replayer);
        DeadLetterSearch search = b.admin == null ? null : new DeadLetterSearch(b.admin, b.searchBudget);
        this.readApi = new DashboardReadApi(service, b.admin, search, history, outcomes, actions, schedules);
        service.addListener(outcomes);
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "workflow-worker-dashboard-sampler"));
        long every = b.sampleInterval.toMillis();
        sampler.scheduleAtFixedRate(this::sample, 0, every, TimeUnit.MILLISECONDS);
    }

    /** {@return a builder; {@link Builder#service} is required} */
    public static Builder builder() {
        return new Builder();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static byte[] asset(String name) {
        try (InputStream in = Dashboard.class.getResourceAsStream("assets/" + name)) {
            if (in == null) {
                throw new IllegalStateException("dashboard asset missing from the jar: " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void sample() {
        try {
            history.record(service.health());
        } catch (RuntimeException e) {
            // A failed sample leaves a gap in the chart; the next one goes on.
            log.warn("dashboard could not sample the service's counters", e);
        }
    }

    /** {@return whether actions are enabled} */
    public boolean actionsEnabled() {
        return actions.enabled();
    }

    /**
     * Answers one request. Never throws for a bad request: it answers 4xx; a failure reading
     * Redis answers 503 with the reason.
     *
     * @param request the request
     * @return the response to send
     */
    public DashboardResponse handle(DashboardRequest request) {
        Objects.requireNonNull(request, "request");
        try {
            return route(request);
        } catch (RuntimeException e) {
            log.warn("dashboard {} {} failed", request.method(), request.path(), e);
            return Responses.error(503, "unavailable: " + e.getMessage());
        }
    }

    /**
     * The page and its assets are answered here; a {@code GET} below {@code /api/} goes to the
     * read API, any other method there to the actions.
     */
    private DashboardResponse route(DashboardRequest r) {
        String path = r.path();
        if (path.isEmpty()) {
            return Responses.redirect(r.requestUri() + "/");
        }
        if (path.startsWith("/api/") && !"GET".equals(r.method())) {
            return actions.handle(r, path);
        }
        if (!"GET".equals(r.method()) && !"HEAD".equals(r.method())) {
            return Responses.methodNotAllowed("GET");
        }
        return switch (path) {
            case "/", "/index.html" -> Responses.ok("text/html; charset=utf-8", Responses.bytes(
                    new String(assets.get("index.html"), StandardCharsets.UTF_8)
                            .replace("{{csrf}}", csrf).replace("{{actions}}", Boolean.toString(actions.enabled()))));
            case "/assets/app.js" -> Responses.ok("text/javascript; charset=utf-8", assets.get("app.js"));
            case "/assets/app.css" -> Responses.ok("text/css; charset=utf-8", assets.get("app.css"));
            default -> path.startsWith("/api/") ? readApi.handle(r, path) : Responses.error(404, "not found");
        };
    }

    /** Stops sampling and any running "replay all"; the service and the admin stay open. */
    @Override
    public void close() {
        service.removeListener(outcomes);
        sampler.shutdownNow();
        replayer.shutdownNow();
    }

    /**
     * Settings of a {@link Dashboard}. Validated where set; combinations in {@link #build()}.
     */
    public static final class Builder {
        private WorkerService service;
        private WorkflowAdmin admin;
        private boolean actionsEnabled;
        private String token;
        private boolean trustHostAuthentication;
        private int replayRate = DEFAULT_REPLAY_RATE;
        private int searchBudget = DEFAULT_SEARCH_BUDGET;
        private Duration sampleInterval = DEFAULT_SAMPLE_INTERVAL;
        private Duration history = DEFAULT_HISTORY;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /**
         * The service shown and acted on (required).
         *
         * @param v the service
         * @return this builder
         */
        public Builder service(WorkerService v) {
            this.service = Objects.requireNonNull(v, "service");
            return this;
        }

        /**
         * Where queue statistics and dead letters are read; without it the page shows the
         * service's own counters only (e.g. on the in-memory transport).
         *
         * @param v the admin, or null; the dashboard does not close it
         * @return this builder
         */
        public Builder admin(WorkflowAdmin v) {
            this.admin = v;
            return this;
        }

        /**
         * Whether the page may change anything (default false: read-only).
         *
         * @param v true to enable replay, purge, pause, resume and scale, and the schedules' pause, resume,
         *     trigger and delete
         * @return this builder
         */
        public Builder actionsEnabled(boolean v) {
            this.actionsEnabled = v;
            return this;
        }

        /**
         * The operator token actions must carry in {@value Dashboard#TOKEN_HEADER}.
         *
         * @param v the token, at least 16 characters, or null for none
         * @return this builder
         * @throws IllegalArgumentException if shorter than 16 characters
         */
        public Builder token(String v) {
            if (v != null && v.length() < 16) {
                throw new IllegalArgumentException("token must have at least 16 characters, got " + v.length());
            }
            this.token = v;
            return this;
        }

        /**
         * Whether a user the host authenticated (the request's principal) may act without the
         * token; for hosts that protect the mount point with their own login (default false).
         *
         * @param v true to accept the host's authentication
         * @return this builder
         */
        public Builder trustHostAuthentication(boolean v) {
            this.trustHostAuthentication = v;
            return this;
        }

        /**
         * How many dead letters "replay all" sends back per second.
         *
         * @param v at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder replayRatePerSecond(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("replayRatePerSecond must be >= 1: " + v);
            }
            this.replayRate = v;
            return this;
        }

        /**
         * How many dead letters one search request reads at most; a search that has not found a
         * full page within it returns what it found and a cursor to continue.
         *
         * @param v at least 100
         * @return this builder
         * @throws IllegalArgumentException if below 100
         */
        public Builder searchBudget(int v) {
            if (v < 100) {
                throw new IllegalArgumentException("searchBudget must be >= 100: " + v);
            }
            this.searchBudget = v;
            return this;
        }

        /**
         * How often the throughput chart takes a sample of the service's counters.
         *
         * @param v at least 100 ms
         * @return this builder
         * @throws IllegalArgumentException if shorter than 100 ms
         */
        public Builder sampleInterval(Duration v) {
            if (v.toMillis() < 100) {
                throw new IllegalArgumentException("sampleInterval must be >= 100ms: " + v);
            }
            this.sampleInterval = v;
            return this;
        }

        /**
         * How far back the throughput chart reaches.
         *
         * @param v positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder history(Duration v) {
            if (v.isZero() || v.isNegative()) {
                throw new IllegalArgumentException("history must be positive: " + v);
            }
            this.history = v;
            return this;
        }

        /**
         * The clock stamping recent outcomes.
         *
         * @param v the clock
         * @return this builder
         */
        public Builder clock(Clock v) {
            this.clock = Objects.requireNonNull(v, "clock");
            return this;
        }

        /**
         * Applies {@code DASHBOARD_ACTIONS} ({@code true} enables actions) and
         * {@code DASHBOARD_TOKEN} (the operator token) from an environment.
         *
         * @param env the environment
         * @return this builder
         * @throws IllegalArgumentException naming the variable if a value is malformed
         */
        public Builder fromEnvironment(Map<String, String> env) {
            String actions = env.get("DASHBOARD_ACTIONS");
            if (actions != null && !actions.isBlank()) {
                String a = actions.trim().toLowerCase(java.util.Locale.ROOT);
                if (!a.equals("true") && !a.equals("false")) {
                    throw new IllegalArgumentException("DASHBOARD_ACTIONS must be true or false, got '" + actions + "'");
                }
                actionsEnabled(a.equals("true"));
            }
            String t = env.get("DASHBOARD_TOKEN");
            if (t != null && !t.isBlank()) {
                try {
                    token(t.trim());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("DASHBOARD_TOKEN " + e.getMessage().replace("token ", ""), e);
                }
            }
            return this;
        }

        /**
         * Builds the dashboard and starts sampling the service's counters.
         *
         * @return the dashboard
         * @throws IllegalStateException if the service is missing, or actions are enabled with
         *     neither a token nor trusted host authentication
         */
        public Dashboard build() {
            if (service == null) {
                throw new IllegalStateException("service is required");
            }
            if (actionsEnabled && token == null && !trustHostAuthentication) {
                throw new IllegalStateException("actions need a token (DASHBOARD_TOKEN) or trusted host authentication");
            }
            return new Dashboard(this);
        }
    }

}
