package dev.workflowworker.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.WorkerHealth;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.wire.DeadLetterFormat;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.WorkflowAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The operator's web page for one {@link WorkerService}: overall health and each worker, the
 * stream's length, lag, pending entries, retries waiting and oldest pending age, throughput and
 * failures over the last minutes, recent outcomes, and the dead letters with search, paging, the
 * full entry and its stack. With actions enabled it also replays (one, selected, or all at a
 * limited rate), purges, pauses, resumes and scales.
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
    private static final Logger audit = LoggerFactory.getLogger(Dashboard.class.getName() + ".actions");

    private static final String JSON = "application/json; charset=utf-8";
    private static final int MAX_PAGE = 100;
    private static final int MAX_SELECTED = 100;
    private static final Map<String, String> SECURITY_HEADERS = Map.of(
            "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer",
            "X-Frame-Options", "DENY",
            "Cache-Control", "no-store");

    private final WorkerService service;
    private final WorkflowAdmin admin;
    private final boolean actionsEnabled;
    private final byte[] token;
    private final boolean trustHostAuthentication;
    private final int replayRate;
    private final String csrf;
    private final ObjectMapper json = new ObjectMapper();
    private final ThroughputHistory history;
    private final OutcomeLog outcomes;
    private final DeadLetterSearch search;
    private final Map<String, byte[]> assets;
    private final ScheduledExecutorService sampler;
    private final ExecutorService replayer;
    private final AtomicBoolean replayAllRunning = new AtomicBoolean();
    private final AtomicReference<String> lastReplayAll = new AtomicReference<>();

    private Dashboard(Builder b) {
        this.service = b.service;
        this.admin = b.admin;
        this.actionsEnabled = b.actionsEnabled;
        this.token = b.token == null ? null : b.token.getBytes(StandardCharsets.UTF_8);
        this.trustHostAuthentication = b.trustHostAuthentication;
        this.replayRate = b.replayRate;
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.csrf = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        int samples = (int) Math.max(2, b.history.toMillis() / b.sampleInterval.toMillis() + 1);
        this.history = new ThroughputHistory(samples);
        this.outcomes = new OutcomeLog(50, b.clock);
        this.search = admin == null ? null : new DeadLetterSearch(admin, json, b.searchBudget);
        this.assets = Map.of("index.html", asset("index.html"), "app.js", asset("app.js"), "app.css", asset("app.css"));
        service.addListener(outcomes);
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "workflow-worker-dashboard-sampler"));
        long every = b.sampleInterval.toMillis();
        sampler.scheduleAtFixedRate(this::sample, 0, every, TimeUnit.MILLISECONDS);
        this.replayer = Executors.newSingleThreadExecutor(r -> daemon(r, "workflow-worker-dashboard-replay"));
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
        return actionsEnabled;
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
            return error(503, "unavailable: " + e.getMessage());
        }
    }

    private DashboardResponse route(DashboardRequest r) throws RuntimeException {
        String path = r.path();
        if (path.isEmpty()) {
            return new DashboardResponse(302, "text/plain; charset=utf-8",
                    withSecurity(Map.of("Location", r.requestUri() + "/")), new byte[0]);
        }
        if (path.startsWith("/api/") && !"GET".equals(r.method())) {
            return action(r);
        }
        if (!"GET".equals(r.method()) && !"HEAD".equals(r.method())) {
            return new DashboardResponse(405, JSON, withSecurity(Map.of("Allow", "GET")),
                    bytes("{\"error\":\"method not allowed\"}"));
        }
        switch (path) {
            case "/", "/index.html" -> {
                String page = new String(assets.get("index.html"), StandardCharsets.UTF_8)
                        .replace("{{csrf}}", csrf).replace("{{actions}}", Boolean.toString(actionsEnabled));
                return ok("text/html; charset=utf-8", bytes(page));
            }
            case "/assets/app.js" -> {
                return ok("text/javascript; charset=utf-8", assets.get("app.js"));
            }
            case "/assets/app.css" -> {
                return ok("text/css; charset=utf-8", assets.get("app.css"));
            }
            case "/api/overview" -> {
                return okJson(overview());
            }
            case "/api/throughput" -> {
                return okJson(throughput());
            }
            case "/api/outcomes" -> {
                return okJson(json.valueToTree(outcomes.rows()));
            }
            case "/api/dead-letters" -> {
                return deadLetters(r);
            }
            default -> {
                if (path.startsWith("/api/dead-letters/")) {
                    return deadLetter(path.substring("/api/dead-letters/".length()));
                }
                return error(404, "not found");
            }
        }
    }

    private ObjectNode overview() {
        HealthSnapshot h = service.health();
        ObjectNode o = json.createObjectNode();
        o.put("status", h.status().jsonValue());
        o.put("timestamp", h.timestamp().toEpochMilli());
        o.put("instanceId", service.instanceId());
        o.put("paused", service.isPaused());
        o.put("state", service.state().name().toLowerCase(java.util.Locale.ROOT));
        o.put("workerCount", h.workerCount());
        o.put("configuredWorkers", service.config().workerCount());
        o.put("healthyWorkers", h.healthyWorkers());
        o.put("degradedWorkers", h.degradedWorkers());
        o.put("unhealthyWorkers", h.unhealthyWorkers());
        o.put("eventsProcessed", h.eventsProcessed());
        o.put("eventsSucceeded", h.eventsSucceeded());
        o.put("eventsFailed", h.eventsFailed());
        o.put("eventsRetried", h.eventsRetried());
        o.put("eventsDeadLettered", h.eventsDeadLettered());
        o.put("activeEvents", h.activeEvents());
        o.put("actionsEnabled", actionsEnabled);
        o.put("replayAllRunning", replayAllRunning.get());
        o.put("lastReplayAll", lastReplayAll.get());
        ArrayNode workers = o.putArray("workers");
        for (WorkerHealth w : h.workers()) {
            ObjectNode n = workers.addObject();
            n.put("workerId", w.workerId());
            n.put("status", w.status().jsonValue());
            n.put("state", w.state().jsonValue());
            n.put("reason", w.reason());
            n.put("activeEvents", w.activeEvents());
            n.put("eventsProcessed", w.eventsProcessed());
            n.put("eventsFailed", w.eventsFailed());
            n.put("lastHeartbeat", w.lastHeartbeat() == null ? null : w.lastHeartbeat().toString());
            n.put("lastError", OutcomeLog.truncate(w.lastError()));
        }
        // A list of stream rows: one per stream, and for a partitioned stream one more per partition.
        ArrayNode streams = o.putArray("streams");
        ArrayNode consumers = o.putArray("consumers");
        if (admin != null) {
            WorkflowAdmin.QueueStats s = admin.stats();
            Optional<Duration> oldest = admin.oldestPendingAge();
            ObjectNode row = streams.addObject();
            row.put("stream", s.stream());
            row.put("group", s.group());
            row.putNull("partition");
            row.put("owner", s.partitioned() ? s.partitions().size() + " partitions over " + s.consumers().size()
                    + " instance(s)" : "shared by " + s.consumers().size() + " consumer(s)");
            row.put("length", s.length());
            row.put("lag", s.lag());
            row.put("pending", s.pending());
            row.put("retryScheduled", s.retryScheduled());
            row.put("deadLetters", s.deadLetters());
            if (oldest.isPresent()) {
                row.put("oldestPendingMs", oldest.get().toMillis());
            } else {
                row.putNull("oldestPendingMs");
            }
            // A partitioned stream: the totals above, then one row per partition with its owner.
            for (WorkflowAdmin.PartitionStats ps : s.partitions()) {
                ObjectNode pr = streams.addObject();
                pr.put("stream", s.stream());
                pr.put("group", s.group());
                pr.put("partition", ps.partition());
                pr.put("owner", ps.owner().isEmpty() ? "(none)" : ps.owner());
                pr.put("length", ps.length());
                pr.put("lag", ps.lag());
                pr.put("pending", ps.pending());
                pr.put("retryScheduled", ps.heldRetries());
                pr.put("deadLetters", ps.deadLetters());
                pr.putNull("oldestPendingMs");
            }
            for (WorkflowAdmin.ConsumerStats c : s.consumers()) {
                ObjectNode n = consumers.addObject();
                n.put("name", c.name());
                n.put("pending", c.pending());
                n.put("idleMs", c.idle().toMillis());
            }
        } else {
            Optional<StreamStats> st = service.transportStats();
            ObjectNode row = streams.addObject();
            row.put("stream", service.stream());
            row.putNull("group");
            row.putNull("partition");
            row.put("owner", "this instance");
            row.putNull("length");
            row.put("lag", st.map(StreamStats::lag).orElse(-1L));
            row.put("pending", st.map(StreamStats::pending).orElse(0L));
            row.put("retryScheduled", st.map(StreamStats::retryScheduled).orElse(0L));
            row.put("deadLetters", st.map(StreamStats::deadLetters).orElse(0L));
            row.putNull("oldestPendingMs");
        }
        o.put("deadLetterSearch", admin != null);
        return o;
    }

    private ObjectNode throughput() {
        ObjectNode o = json.createObjectNode();
        ArrayNode points = o.putArray("points");
        for (ThroughputHistory.Point p : history.points()) {
            ObjectNode n = points.addObject();
            n.put("t", p.at().toEpochMilli());
            n.put("succeeded", p.succeeded());
            n.put("failed", p.failed());
            n.put("deadLettered", p.deadLettered());
            n.put("retried", p.retried());
        }
        return o;
    }

    private DashboardResponse deadLetters(DashboardRequest r) {
        if (search == null) {
            return error(404, "dead letters are read from Redis; this service runs without WorkflowAdmin");
        }
        String cursor = r.query().get("cursor");
        if (cursor != null && !cursor.isEmpty()) {
            String wrong = wrongId(cursor);
            if (wrong != null) {
                return error(400, "cursor: " + wrong);
            }
        }
        int limit;
        try {
            limit = Integer.parseInt(r.query().getOrDefault("limit", "25"));
        } catch (NumberFormatException e) {
            return error(400, "limit must be a number");
        }
        if (limit < 1 || limit > MAX_PAGE) {
            return error(400, "limit must be between 1 and " + MAX_PAGE);
        }
        DeadLetterSearch.Criteria criteria = new DeadLetterSearch.Criteria(r.query().get("type"),
                r.query().get("tenant"), r.query().get("q"));
        DeadLetterSearch.Page page = search.search(criteria, cursor == null || cursor.isEmpty() ? null : cursor, limit);
        ObjectNode o = json.createObjectNode();
        o.set("items", json.valueToTree(page.items()));
        o.put("cursor", page.cursor());
        o.put("scanned", page.scanned());
        o.put("total", admin.deadLetterCount());
        return okJson(o);
    }

    private DashboardResponse deadLetter(String escapedId) {
        if (search == null) {
            return error(404, "dead letters are read from Redis; this service runs without WorkflowAdmin");
        }
        String id;
        try {
            // The JDK server hands over the raw path ("3%2F1-0"), a servlet container a decoded one
            // ("3/1-0"); an id has no '%' or '+' of its own, so decoding either is safe.
            id = URLDecoder.decode(escapedId, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return error(400, "malformed escape in dead-letter id '" + escapedId + "'");
        }
        String wrong = wrongId(id);
        if (wrong != null) {
            return error(400, wrong);
        }
        Optional<RedisDeadLetters.Entry> found = admin.deadLetter(id);
        if (found.isEmpty()) {
            return error(404, "no dead letter " + id);
        }
        RedisDeadLetters.Entry e = found.get();
        ObjectNode o = json.createObjectNode();
        o.put("id", e.id());
        o.set("summary", json.valueToTree(search.summarise(e)));
        ObjectNode fields = o.putObject("fields");
        new java.util.TreeMap<>(e.fields()).forEach((k, v) -> {
            if (!k.equals(DeadLetterFormat.ORIGINAL_MESSAGE) && !k.equals(DeadLetterFormat.ERROR_STACK)) {
                fields.put(k, v);
            }
        });
        JsonNode original = search.original(e);
        if (original != null) {
            // Payload and headers are JSON inside JSON: shown expanded, so they read as objects.
            ObjectNode expanded = ((ObjectNode) original).deepCopy();
            for (String f : List.of(WireFormat.PAYLOAD_JSON, WireFormat.HEADERS_JSON)) {
                JsonNode v = expanded.get(f);
                if (v != null && v.isTextual() && !v.asText().isBlank()) {
                    try {
                        expanded.set(f, json.readTree(v.asText()));
                    } catch (IOException notJson) {
                        // left as the text it is
                    }
                }
            }
            o.set("original", expanded);
        } else {
            o.put("originalRaw", e.originalMessage());
        }
        o.put("stack", e.fields().getOrDefault(DeadLetterFormat.ERROR_STACK, ""));
        return okJson(o);
    }

    // ---- actions ----

    private DashboardResponse action(DashboardRequest r) {
        if (!"POST".equals(r.method())) {
            return new DashboardResponse(405, JSON, withSecurity(Map.of("Allow", "GET, POST")),
                    bytes("{\"error\":\"method not allowed\"}"));
        }
        String what = r.path().substring("/api/".length());
        if (!actionsEnabled) {
            audit.warn("refused {} from {}: actions are disabled", what, r.remoteAddress());
            return error(403, "actions are disabled (read-only dashboard)");
        }
        String crossSite = crossSiteReason(r);
        if (crossSite != null) {
            audit.warn("refused {} from {}: {}", what, r.remoteAddress(), crossSite);
            return error(403, crossSite);
        }
        String who = authenticate(r);
        if (who == null) {
            audit.warn("refused {} from {}: no valid token", what, r.remoteAddress());
            return error(401, "a valid operator token is required (" + TOKEN_HEADER + ")");
        }
        JsonNode body;
        try {
            body = r.body().isBlank() ? json.createObjectNode() : json.readTree(r.body());
        } catch (IOException e) {
            return error(400, "body must be JSON");
        }
        return perform(what, body, who);
    }

    /** Why a request looks cross-site, or null when it does not. */
    private String crossSiteReason(DashboardRequest r) {
        String site = r.header("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin")) {
            return "cross-site request refused (Sec-Fetch-Site: " + site + ")";
        }
        String origin = r.header("Origin");
        String host = r.header("Host");
        if (origin != null && host != null) {
            String originHost;
            try {
                URI u = URI.create(origin);
                originHost = u.getPort() == -1 ? u.getHost() : u.getHost() + ":" + u.getPort();
            } catch (IllegalArgumentException e) {
                originHost = null;
            }
            if (originHost == null || !originHost.equalsIgnoreCase(host)) {
                return "cross-origin request refused (Origin does not match Host)";
            }
        }
        String sent = r.header(CSRF_HEADER);
        if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                csrf.getBytes(StandardCharsets.UTF_8))) {
            return "missing or wrong CSRF token (" + CSRF_HEADER + "); reload the page";
        }
        return null;
    }

    /** Who is acting, or null when nobody authenticated. */
    private String authenticate(DashboardRequest r) {
        String sent = r.header(TOKEN_HEADER);
        if (token != null && sent != null && MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8), token)) {
            return r.principal() != null ? r.principal() + " (token)" : "token holder";
        }
        if (trustHostAuthentication && r.principal() != null) {
            return r.principal();
        }
        return null;
    }

    private DashboardResponse perform(String what, JsonNode body, String who) {
        ObjectNode result = json.createObjectNode();
        switch (what) {
            case "service/pause" -> {
                audit.info("{} paused the service", who);
                service.pause();
                result.put("paused", true);
            }
            case "service/resume" -> {
                audit.info("{} resumed the service", who);
                service.resume();
                result.put("paused", false);
            }
            case "service/scale" -> {
                int workers = body.path("workers").asInt(0);
                if (workers < 1 || workers > 1_000) {
                    return error(400, "workers must be between 1 and 1000");
                }
                audit.info("{} scaled the service from {} to {} workers", who, service.health().workerCount(), workers);
                service.scale(workers);
                result.put("workers", workers);
            }
            case "dead-letters/replay" -> {
                if (admin == null) {
                    return error(404, "no dead letters without WorkflowAdmin");
                }
                JsonNode ids = body.path("ids");
                if (!ids.isArray() || ids.isEmpty() || ids.size() > MAX_SELECTED) {
                    return error(400, "ids must list 1 to " + MAX_SELECTED + " dead-letter ids");
                }
                ArrayNode replayed = result.putArray("replayed");
                ArrayNode missing = result.putArray("missing");
                // All checked before any is replayed, so a typo does not leave half a selection done.
                for (JsonNode idNode : ids) {
                    String wrong = wrongId(idNode.asText());
                    if (wrong != null) {
                        return error(400, wrong);
                    }
                }
                for (JsonNode idNode : ids) {
                    String id = idNode.asText();
                    Optional<String> newId = admin.replay(id);
                    audit.info("{} replayed dead letter {}: {}", who, id, newId.map(n -> "new entry " + n)
                            .orElse("no such dead letter"));
                    (newId.isPresent() ? replayed : missing).add(id);
                }
            }
            case "dead-letters/replay-all" -> {
                if (admin == null) {
                    return error(404, "no dead letters without WorkflowAdmin");
                }
                if (!replayAllRunning.compareAndSet(false, true)) {
                    return error(409, "a replay of all dead letters is already running");
                }
                audit.info("{} started replaying all dead letters at {} per second", who, replayRate);
                replayer.execute(() -> replayAll(who));
                result.put("started", true);
                result.put("perSecond", replayRate);
                return new DashboardResponse(202, JSON, withSecurity(Map.of()), bytes(result.toString()));
            }
            case "dead-letters/purge" -> {
                if (admin == null) {
                    return error(404, "no dead letters without WorkflowAdmin");
                }
                long purged = admin.purge();
                audit.info("{} purged {} dead letters", who, purged);
                result.put("purged", purged);
            }
            default -> {
                return error(404, "no such action: " + what);
            }
        }
        return okJson(result);
    }

    /**
     * Why {@code id} is not a dead-letter id of the admin's stream, or null when it is one. The
     * admin's own parser decides, so the page accepts exactly the ids the admin lists, in either
     * form (plain for a shared stream, {@code partition/id} for a partitioned one).
     */
    private String wrongId(String id) {
        try {
            admin.requireDeadLetterId(id);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private void replayAll(String who) {
        try {
            int n = admin.replayAll(replayRate);
            audit.info("{}'s replay of all dead letters finished: {} replayed", who, n);
            lastReplayAll.set(n + " replayed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            lastReplayAll.set("interrupted");
        } catch (RuntimeException e) {
            log.warn("replay of all dead letters failed", e);
            lastReplayAll.set("failed: " + e.getMessage());
        } finally {
            replayAllRunning.set(false);
        }
    }

    // ---- responses ----

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, String> withSecurity(Map<String, String> extra) {
        Map<String, String> h = new LinkedHashMap<>(SECURITY_HEADERS);
        h.putAll(extra);
        return h;
    }

    private static DashboardResponse ok(String contentType, byte[] body) {
        return new DashboardResponse(200, contentType, withSecurity(Map.of()), body);
    }

    private DashboardResponse okJson(JsonNode body) {
        return ok(JSON, bytes(body.toString()));
    }

    private DashboardResponse error(int status, String message) {
        ObjectNode o = json.createObjectNode();
        o.put("error", message);
        return new DashboardResponse(status, JSON, withSecurity(Map.of()), bytes(o.toString()));
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
         * @param v true to enable replay, purge, pause, resume and scale
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

    /** For tests: the CSRF token the page carries. */
    String csrfToken() {
        return csrf;
    }

    /** For tests: the history as the chart reads it. */
    List<ThroughputHistory.Point> historyPoints() {
        return history.points();
    }
}
