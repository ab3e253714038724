package dev.workflowworker.dashboard;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.WorkerHealth;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.wire.DeadLetterFormat;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.WorkflowAdmin;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static dev.workflowworker.dashboard.Responses.error;
import static dev.workflowworker.dashboard.Responses.ok;

/**
 * The page's read API, {@code GET /api/...}: each answer is a record the module's mapper writes,
 * its components named as the page's script reads them. Reads only: nothing here changes the
 * service or Redis.
 */
final class DashboardReadApi {

    private static final int MAX_PAGE = 100;
    private static final String NO_ADMIN = "dead letters are read from Redis; this service runs without WorkflowAdmin";

    /**
     * {@code /api/overview}: the service's health, its workers, its stream rows and consumers;
     * whether its transport keeps schedules, and its delayed events waiting (null when it cannot delay events).
     */
    record Overview(String status, long timestamp, String instanceId, boolean paused, String state, int workerCount,
                    int configuredWorkers, int healthyWorkers, int degradedWorkers, int unhealthyWorkers,
                    long eventsProcessed, long eventsSucceeded, long eventsFailed, long eventsRetried,
                    long eventsDeadLettered, long activeEvents, boolean actionsEnabled, boolean replayAllRunning,
                    String lastReplayAll, List<WorkerRow> workers, List<StreamRow> streams,
                    List<ConsumerRow> consumers, boolean deadLetterSearch, boolean schedules,
                    Long delayedWaiting) {
    }

    /** One worker of the service. */
    record WorkerRow(String workerId, String status, String state, String reason, int activeEvents,
                     long eventsProcessed, long eventsFailed, String lastHeartbeat, String lastError) {
    }

    /**
     * One stream row: the stream's totals ({@code partition} null), then for a partitioned stream
     * one row per partition with its owner. Unknown figures are null.
     */
    record StreamRow(String stream, String group, Integer partition, String owner, Long length, long lag,
                     long pending, long retryScheduled, long deadLetters, Long oldestPendingMs) {
    }

    /** One consumer of the group. */
    record ConsumerRow(String name, long pending, long idleMs) {
    }

    /** {@code /api/throughput}: counts per sample interval, oldest first. */
    record Throughput(List<ThroughputPoint> points) {
    }

    /** Counts in the interval ending at {@code t} (epoch milliseconds). */
    record ThroughputPoint(long t, long succeeded, long failed, long deadLettered, long retried) {
    }

    /** {@code /api/dead-letters}: a page of matches, where the next page starts, and the total. */
    record DeadLetterPage(List<DeadLetterSearch.Summary> items, String cursor, int scanned, long total) {
    }

    /**
     * {@code /api/dead-letters/ID}: one dead letter. The original event parsed ({@code original},
     * its payload and headers expanded) or, when it is not a JSON object, as the text it is
     * ({@code originalRaw}); one of the two is present.
     */
    record DeadLetterDetail(String id, DeadLetterSearch.Summary summary, Map<String, String> fields,
                            @JsonInclude(JsonInclude.Include.NON_NULL) JsonNode original,
                            @JsonInclude(JsonInclude.Include.NON_NULL) String originalRaw, String stack) {
    }

    private final WorkerService service;
    private final WorkflowAdmin admin;
    private final DeadLetterSearch search;
    private final ThroughputHistory history;
    private final OutcomeLog outcomes;
    private final DashboardActions actions;
    private final DashboardSchedules schedules;

    DashboardReadApi(WorkerService service, WorkflowAdmin admin, DeadLetterSearch search, ThroughputHistory history,
                     OutcomeLog outcomes, DashboardActions actions, DashboardSchedules schedules) {
        this.service = service;
        this.admin = admin;
        this.search = search;
        this.history = history;
        this.outcomes = outcomes;
        this.actions = actions;
        this.schedules = schedules;
    }

    /**
     * Answers a {@code GET} (or {@code HEAD}) below {@code /api/}.
     *
     * @param r    the request
     * @param path its path, starting with {@code /api/}
     * @return the answer; 404 for a path that is no endpoint
     */
    DashboardResponse handle(DashboardRequest r, String path) {
        return switch (path) {
            case "/api/overview" -> ok(overview());
            case "/api/throughput" -> ok(throughput());
            case "/api/outcomes" -> ok(outcomes.rows());
            case "/api/dead-letters" -> deadLetters(r);
            case "/api/schedules" -> schedules.list();
            default -> path.startsWith("/api/dead-letters/")
                    ? deadLetter(path.substring("/api/dead-letters/".length()))
                    : error(404, "not found");
        };
    }

    private Overview overview() {
        HealthSnapshot h = service.health();
        List<WorkerRow> workers = new ArrayList<>();
        for (WorkerHealth w : h.workers()) {
            workers.add(new WorkerRow(w.workerId(), w.status().jsonValue(), w.state().jsonValue(), w.reason(),
                    w.activeEvents(), w.eventsProcessed(), w.eventsFailed(),
                    w.lastHeartbeat() == null ? null : w.lastHeartbeat().toString(), OutcomeLog.truncate(w.lastError())));
        }
        List<StreamRow> streams = new ArrayList<>();
        List<ConsumerRow> consumers = new ArrayList<>();
        if (admin != null) {
            queueRows(streams, consumers);
        } else {
            Optional<StreamStats> st = service.transportStats();
            streams.add(new StreamRow(service.stream(), null, null, "this instance", null,
                    st.map(StreamStats::lag).orElse(-1L), st.map(StreamStats::pending).orElse(0L),
                    st.map(StreamStats::retryScheduled).orElse(0L), st.map(StreamStats::deadLetters).orElse(0L), null));
        }
        return new Overview(h.status().jsonValue(), h.timestamp().toEpochMilli(), service.instanceId(),
                service.isPaused(), service.state().name().toLowerCase(Locale.ROOT), h.workerCount(),
                service.config().workerCount(), h.healthyWorkers(), h.degradedWorkers(), h.unhealthyWorkers(),
                h.eventsProcessed(), h.eventsSucceeded(), h.eventsFailed(), h.eventsRetried(), h.eventsDeadLettered(),
                h.activeEvents(), actions.enabled(), actions.replayAllRunning(), actions.lastReplayAll(), workers,
                streams, consumers, admin != null, schedules.available(), schedules.delayedWaiting());
    }

    /** The stream's totals, then for a partitioned stream one row per partition with its owner; its consumers. */
    private void queueRows(List<StreamRow> streams, List<ConsumerRow> consumers) {
        WorkflowAdmin.QueueStats s = admin.stats();
        Optional<Duration> oldest = admin.oldestPendingAge();
        String owner = s.partitioned()
                ? s.partitions().size() + " partitions over " + s.consumers().size() + " instance(s)"
                : "shared by " + s.consumers().size() + " consumer(s)";
        streams.add(new StreamRow(s.stream(), s.group(), null, owner, s.length(), s.lag(), s.pending(),
                s.retryScheduled(), s.deadLetters(), oldest.map(Duration::toMillis).orElse(null)));
        for (WorkflowAdmin.PartitionStats ps : s.partitions()) {
            streams.add(new StreamRow(s.stream(), s.group(), ps.partition(), ps.owner().isEmpty() ? "(none)" : ps.owner(),
                    ps.length(), ps.lag(), ps.pending(), ps.heldRetries(), ps.deadLetters(), null));
        }
        for (WorkflowAdmin.ConsumerStats c : s.consumers()) {
            consumers.add(new ConsumerRow(c.name(), c.pending(), c.idle().toMillis()));
        }
    }

    private Throughput throughput() {
        List<ThroughputPoint> points = new ArrayList<>();
        for (ThroughputHistory.Point p : history.points()) {
            points.add(new ThroughputPoint(p.at().toEpochMilli(), p.succeeded(), p.failed(), p.deadLettered(),
                    p.retried()));
        }
        return new Throughput(points);
    }

    private DashboardResponse deadLetters(DashboardRequest r) {
        if (search == null) {
            return error(404, NO_ADMIN);
        }
        String cursor = r.query().get("cursor");
        if (cursor != null && !cursor.isEmpty()) {
            String wrong = DeadLetterSearch.wrongId(admin, cursor);
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
        return ok(new DeadLetterPage(page.items(), page.cursor(), page.scanned(), admin.deadLetterCount()));
    }

    private DashboardResponse deadLetter(String escapedId) {
        if (search == null) {
            return error(404, NO_ADMIN);
        }
        String id;
        try {
            // The JDK server hands over the raw path ("3%2F1-0"), a servlet container a decoded one
            // ("3/1-0"); an id has no '%' or '+' of its own, so decoding either is safe.
            id = URLDecoder.decode(escapedId, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return error(400, "malformed escape in dead-letter id '" + escapedId + "'");
        }
        String wrong = DeadLetterSearch.wrongId(admin, id);
        if (wrong != null) {
            return error(400, wrong);
        }
        Optional<RedisDeadLetters.Entry> found = admin.deadLetter(id);
        if (found.isEmpty()) {
            return error(404, "no dead letter " + id);
        }
        RedisDeadLetters.Entry e = found.get();
        Map<String, String> fields = new TreeMap<>(e.fields());
        fields.remove(DeadLetterFormat.ORIGINAL_MESSAGE);
        fields.remove(DeadLetterFormat.ERROR_STACK);
        JsonNode original = search.original(e);
        return ok(new DeadLetterDetail(e.id(), search.summarise(e), fields, original == null ? null : expanded(original),
                original == null ? e.originalMessage() : null, e.fields().getOrDefault(DeadLetterFormat.ERROR_STACK, "")));
    }

    /** Payload and headers are JSON inside JSON: shown expanded, so they read as objects. */
    private static JsonNode expanded(JsonNode original) {
        ObjectNode expanded = ((ObjectNode) original).deepCopy();
        for (String f : List.of(WireFormat.PAYLOAD_JSON, WireFormat.HEADERS_JSON)) {
            JsonNode v = expanded.get(f);
            if (v != null && v.isTextual() && !v.asText().isBlank()) {
                try {
                    expanded.set(f, Responses.JSON.readTree(v.asText()));
                } catch (IOException notJson) {
                    // left as the text it is
                }
            }
        }
        return expanded;
    }
}
