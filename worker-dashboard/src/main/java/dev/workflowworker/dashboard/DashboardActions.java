package dev.workflowworker.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.WorkflowAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.workflowworker.dashboard.Responses.error;
import static dev.workflowworker.dashboard.Responses.ok;

/**
 * The page's actions, {@code POST /api/...}: who may act (enabled, same site, CSRF token,
 * operator token or trusted host user; see docs/ARCHITECTURE.md, "Dashboard"), then pause,
 * resume, scale, replay, replay all and purge, and a schedule's pause, resume, trigger and
 * delete ({@link DashboardSchedules}), each written to the action log.
 */
final class DashboardActions {

    private static final Logger log = LoggerFactory.getLogger(Dashboard.class);
    private static final Logger audit = LoggerFactory.getLogger(Dashboard.class.getName() + ".actions");

    private static final int MAX_SELECTED = 100;
    private static final String NO_ADMIN = "no dead letters without WorkflowAdmin";

    /** The answer to pause and resume. */
    record Paused(boolean paused) {
    }

    /** The answer to scale. */
    record Scaled(int workers) {
    }

    /** The answer to a replay of selected dead letters: the ids replayed, and those that were no dead letter. */
    record Replayed(List<String> replayed, List<String> missing) {
    }

    /** The answer to "replay all": started in the background at {@code perSecond}. */
    record ReplayAllStarted(boolean started, int perSecond) {
    }

    /** The answer to purge. */
    record Purged(long purged) {
    }

    private final WorkerService service;
    private final WorkflowAdmin admin;
    private final DashboardSchedules schedules;
    private final boolean enabled;
    private final byte[] token;
    private final boolean trustHostAuthentication;
    private final int replayRate;
    private final String csrf;
    private final ExecutorService replayer;
    private final AtomicBoolean replayAllRunning = new AtomicBoolean();
    private final AtomicReference<String> lastReplayAll = new AtomicReference<>();

    DashboardActions(WorkerService service, WorkflowAdmin admin, DashboardSchedules schedules, boolean enabled,
                     String token, boolean trustHostAuthentication, int replayRate, String csrf,
                     ExecutorService replayer) {
        this.service = service;
        this.admin = admin;
        this.schedules = schedules;
        this.enabled = enabled;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.trustHostAuthentication = trustHostAuthentication;
        this.replayRate = replayRate;
        this.csrf = csrf;
        this.replayer = replayer;
    }

    boolean enabled() {
        return enabled;
    }

    boolean replayAllRunning() {
        return replayAllRunning.get();
    }

    /** How the last "replay all" ended ({@code "12 replayed"}, {@code "failed: ..."}), or null before the first. */
    String lastReplayAll() {
        return lastReplayAll.get();
    }

    /**
     * Answers a request below {@code /api/} other than {@code GET}.
     *
     * @param r    the request
     * @param path its path, starting with {@code /api/}
     * @return the answer: 405 unless {@code POST}, 403 or 401 when refused, else the action's
     */
    DashboardResponse handle(DashboardRequest r, String path) {
        if (!"POST".equals(r.method())) {
            return Responses.methodNotAllowed("GET, POST");
        }
        String what = path.substring("/api/".length());
        if (!enabled) {
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
            return error(401, "a valid operator token is required (" + Dashboard.TOKEN_HEADER + ")");
        }
        JsonNode body;
        try {
            body = r.body().isBlank() ? Responses.JSON.createObjectNode() : Responses.JSON.readTree(r.body());
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
        String sent = r.header(Dashboard.CSRF_HEADER);
        if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                csrf.getBytes(StandardCharsets.UTF_8))) {
            return "missing or wrong CSRF token (" + Dashboard.CSRF_HEADER + "); reload the page";
        }
        return null;
    }

    /** Who is acting, or null when nobody authenticated. */
    private String authenticate(DashboardRequest r) {
        String sent = r.header(Dashboard.TOKEN_HEADER);
        if (token != null && sent != null && MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8), token)) {
            return r.principal() != null ? r.principal() + " (token)" : "token holder";
        }
        if (trustHostAuthentication && r.principal() != null) {
            return r.principal();
        }
        return null;
    }

    private DashboardResponse perform(String what, JsonNode body, String who) {
        if (what.startsWith("schedules/")) {
            return schedules.perform(what.substring("schedules/".length()), body, who, audit);
        }
        switch (what) {
            case "service/pause" -> {
                audit.info("{} paused the service", who);
                service.pause();
                return ok(new Paused(true));
            }
            case "service/resume" -> {
                audit.info("{} resumed the service", who);
                service.resume();
                return ok(new Paused(false));
            }
            case "service/scale" -> {
                int workers = body.path("workers").asInt(0);
                if (workers < 1 || workers > 1_000) {
                    return error(400, "workers must be between 1 and 1000");
                }
                audit.info("{} scaled the service from {} to {} workers", who, service.health().workerCount(), workers);
                service.scale(workers);
                return ok(new Scaled(workers));
            }
            case "dead-letters/replay" -> {
                return admin == null ? error(404, NO_ADMIN) : replay(body.path("ids"), who);
            }
            case "dead-letters/replay-all" -> {
                if (admin == null) {
                    return error(404, NO_ADMIN);
                }
                if (!replayAllRunning.compareAndSet(false, true)) {
                    return error(409, "a replay of all dead letters is already running");
                }
                audit.info("{} started replaying all dead letters at {} per second", who, replayRate);
                replayer.execute(() -> replayAll(who));
                return Responses.json(202, new ReplayAllStarted(true, replayRate));
            }
            case "dead-letters/purge" -> {
                if (admin == null) {
                    return error(404, NO_ADMIN);
                }
                long purged = admin.purge();
                audit.info("{} purged {} dead letters", who, purged);
                return ok(new Purged(purged));
            }
            default -> {
                return error(404, "no such action: " + what);
            }
        }
    }

    private DashboardResponse replay(JsonNode ids, String who) {
        if (!ids.isArray() || ids.isEmpty() || ids.size() > MAX_SELECTED) {
            return error(400, "ids must list 1 to " + MAX_SELECTED + " dead-letter ids");
        }
        // All checked before any is replayed, so a typo does not leave half a selection done.
        for (JsonNode idNode : ids) {
            String wrong = DeadLetterSearch.wrongId(admin, idNode.asText());
            if (wrong != null) {
                return error(400, wrong);
            }
        }
        List<String> replayed = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (JsonNode idNode : ids) {
            String id = idNode.asText();
            Optional<String> newId = admin.replay(id);
            audit.info("{} replayed dead letter {}: {}", who, id, newId.map(n -> "new entry " + n)
                    .orElse("no such dead letter"));
            (newId.isPresent() ? replayed : missing).add(id);
        }
        return ok(new Replayed(replayed, missing));
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
}
