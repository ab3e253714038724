package dev.workflowworker.core.internal;

import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.WorkerState;

import java.time.Duration;
import java.util.Collection;

/**
 * The health rules (docs/ARCHITECTURE.md, "Health") as pure functions, so they are tested without threads or time.
 */
public final class HealthRules {

    /** Below this many attempts in the window, a failure ratio says nothing. */
    public static final int MIN_SAMPLES = 10;

    private HealthRules() {
    }

    /**
     * @param heartbeatTimeout how stale a heartbeat may get
     * @param window           how long a transport failure or saturation is remembered
     * @param failureRatio     failure ratio above which a worker is degraded
     */
    public record Thresholds(Duration heartbeatTimeout, Duration window, double failureRatio) {
    }

    /**
     * @param status the verdict
     * @param reason why it is not healthy, or null
     */
    public record Verdict(HealthStatus status, String reason) {
    }

    /**
     * Judges one worker.
     *
     * @param state     lifecycle state
     * @param stats     its signals
     * @param nowMillis clock time
     * @param t         thresholds
     * @return the verdict
     */
    public static Verdict worker(WorkerState state, String crashReason, WorkerStats stats, long nowMillis, Thresholds t) {
        if (state == WorkerState.PAUSED) {
            // Paused on purpose: alive and holding its work, but not taking new events.
            return new Verdict(HealthStatus.DEGRADED, "paused");
        }
        if (state != WorkerState.RUNNING) {
            return new Verdict(HealthStatus.UNHEALTHY,
                    crashReason != null ? state.jsonValue() + ": " + crashReason : state.jsonValue());
        }
        long staleMs = nowMillis - stats.heartbeatMillis();
        if (staleMs > t.heartbeatTimeout().toMillis()) {
            return new Verdict(HealthStatus.UNHEALTHY, "loop heartbeat stale for " + staleMs + " ms");
        }
        long downSince = stats.transportDownSinceMillis();
        if (downSince >= 0) {
            // Until a read succeeds again, however long the backoff between attempts has grown.
            return new Verdict(HealthStatus.DEGRADED, "transport unreachable for " + (nowMillis - downSince)
                    + " ms: " + stats.lastInfraError());
        }
        long windowMs = t.window().toMillis();
        long infraAgo = nowMillis - stats.lastInfraErrorMillis();
        if (stats.lastInfraErrorMillis() != Long.MIN_VALUE && infraAgo <= windowMs) {
            return new Verdict(HealthStatus.DEGRADED, "transport or lock failure " + infraAgo + " ms ago: "
                    + stats.lastInfraError());
        }
        long processed = stats.windowProcessed();
        long failed = stats.windowFailed();
        if (processed >= MIN_SAMPLES && (double) failed / processed > t.failureRatio()) {
            return new Verdict(HealthStatus.DEGRADED, "failure ratio " + failed + "/" + processed
                    + " over the last health window");
        }
        long saturatedSince = stats.saturatedSinceMillis();
        if (saturatedSince >= 0 && nowMillis - saturatedSince >= windowMs) {
            return new Verdict(HealthStatus.DEGRADED, "saturated for " + (nowMillis - saturatedSince) + " ms");
        }
        return new Verdict(HealthStatus.HEALTHY, null);
    }

    /**
     * Judges the service from its workers.
     *
     * @param workers    verdicts of the workers it has
     * @param running    how many of them run
     * @param configured how many it should run
     * @return the service's status
     */
    public static HealthStatus service(Collection<HealthStatus> workers, int running, int configured) {
        if (running == 0 || workers.contains(HealthStatus.UNHEALTHY)) {
            return HealthStatus.UNHEALTHY;
        }
        if (workers.contains(HealthStatus.DEGRADED) || running < configured) {
            return HealthStatus.DEGRADED;
        }
        return HealthStatus.HEALTHY;
    }
}
