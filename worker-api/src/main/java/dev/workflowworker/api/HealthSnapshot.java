package dev.workflowworker.api;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Objects;

/**
 * The health of a service at a point in time. Its JSON form ({@link #toJson()}) has the top-level
 * keys of the Alga PSA Workflow Worker Service's health document first ({@code status},
 * {@code workerCount}, {@code healthyWorkers}, {@code degradedWorkers}, {@code unhealthyWorkers},
 * {@code eventsProcessed},
 * {@code eventsSucceeded}, {@code eventsFailed}, {@code activeEvents}, {@code timestamp}),
 * followed by ours.
 *
 * <p>{@code eventsProcessed == eventsSucceeded + eventsFailed}: every processing attempt that ran
 * to an outcome counts once. Duplicates and lock contention are not attempts.
 *
 * @param status             the service's health
 * @param workerCount        workers currently running
 * @param healthyWorkers     workers that are healthy
 * @param degradedWorkers    workers that are degraded
 * @param unhealthyWorkers   workers that are unhealthy
 * @param eventsProcessed    attempts that ran to an outcome
 * @param eventsSucceeded    attempts that succeeded
 * @param eventsFailed       attempts that failed (including malformed entries)
 * @param activeEvents       events being processed now
 * @param timestamp          when the snapshot was taken
 * @param eventsRetried      retries scheduled or run
 * @param eventsDeadLettered events moved to the dead-letter stream
 * @param duplicates         redeliveries of already completed events, acknowledged without running
 * @param workers            per-worker detail
 * @param partitions         the partitions this process owns, or null when the stream is not partitioned
 * @param retryHolds         keys whose events wait behind a retry, or null when the transport does not
 *                           order events per key
 */
public record HealthSnapshot(HealthStatus status, int workerCount, int healthyWorkers, int degradedWorkers,
                             int unhealthyWorkers, long eventsProcessed, long eventsSucceeded, long eventsFailed,
                             long activeEvents, Instant timestamp, long eventsRetried, long eventsDeadLettered,
                             long duplicates, List<WorkerHealth> workers, PartitionOwnership partitions,
                             RetryHolds retryHolds) {

    /** The Alga PSA Workflow Worker Service's timestamp form: ISO-8601 UTC with milliseconds, {@code 2025-03-01T23:00:00.000Z}. */
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /**
     * Validates the components.
     *
     * @param status             the service's health
     * @param workerCount        workers currently running
     * @param healthyWorkers     workers that are healthy
     * @param degradedWorkers    workers that are degraded
     * @param unhealthyWorkers   workers that are unhealthy
     * @param eventsProcessed    attempts that ran to an outcome
     * @param eventsSucceeded    attempts that succeeded
     * @param eventsFailed       attempts that failed (including malformed entries)
     * @param activeEvents       events being processed now
     * @param timestamp          when the snapshot was taken
     * @param eventsRetried      retries scheduled or run
     * @param eventsDeadLettered events moved to the dead-letter stream
     * @param duplicates         redeliveries of already completed events, acknowledged without running
     * @param workers            per-worker detail, copied; null for none
     * @param partitions         the partitions owned, or null
     * @param retryHolds         the keys held by retries, or null
     * @throws NullPointerException if a required component is null
     */
    public HealthSnapshot {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(timestamp, "timestamp");
        workers = workers == null ? List.of() : List.copyOf(workers);
    }

    /**
     * The snapshot as a JSON object, as served by the health endpoint. Written by hand because
     * this package depends on the JDK only; the output is plain JSON (RFC 8259).
     *
     * @return the JSON text
     */
    public String toJson() {
        StringBuilder sb = new StringBuilder(256 + 256 * workers.size());
        sb.append('{');
        field(sb, "status", status.jsonValue()).append(',');
        sb.append("\"workerCount\":").append(workerCount).append(',');
        sb.append("\"healthyWorkers\":").append(healthyWorkers).append(',');
        sb.append("\"degradedWorkers\":").append(degradedWorkers).append(',');
        sb.append("\"unhealthyWorkers\":").append(unhealthyWorkers).append(',');
        sb.append("\"eventsProcessed\":").append(eventsProcessed).append(',');
        sb.append("\"eventsSucceeded\":").append(eventsSucceeded).append(',');
        sb.append("\"eventsFailed\":").append(eventsFailed).append(',');
        sb.append("\"activeEvents\":").append(activeEvents).append(',');
        field(sb, "timestamp", TIMESTAMP.format(timestamp)).append(',');
        sb.append("\"eventsRetried\":").append(eventsRetried).append(',');
        sb.append("\"eventsDeadLettered\":").append(eventsDeadLettered).append(',');
        sb.append("\"duplicates\":").append(duplicates).append(',');
        sb.append("\"workers\":[");
        for (int i = 0; i < workers.size(); i++) {
            WorkerHealth w = workers.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append('{');
            field(sb, "workerId", w.workerId()).append(',');
            field(sb, "status", w.status().jsonValue()).append(',');
            field(sb, "state", w.state().jsonValue()).append(',');
            field(sb, "reason", w.reason()).append(',');
            sb.append("\"eventsProcessed\":").append(w.eventsProcessed()).append(',');
            sb.append("\"eventsSucceeded\":").append(w.eventsSucceeded()).append(',');
            sb.append("\"eventsFailed\":").append(w.eventsFailed()).append(',');
            sb.append("\"activeEvents\":").append(w.activeEvents()).append(',');
            field(sb, "lastHeartbeat", w.lastHeartbeat() == null ? null : TIMESTAMP.format(w.lastHeartbeat())).append(',');
            field(sb, "lastError", w.lastError());
            sb.append('}');
        }
        sb.append(']');
        sb.append(",\"partitions\":");
        if (partitions == null) {
            sb.append("null");
        } else {
            sb.append("{\"count\":").append(partitions.partitions()).append(",\"owned\":[");
            for (int i = 0; i < partitions.owned().size(); i++) {
                sb.append(i > 0 ? "," : "").append(partitions.owned().get(i));
            }
            sb.append("],\"share\":").append(partitions.share())
                    .append(",\"renewalFailing\":").append(partitions.renewalFailing()).append('}');
        }
        sb.append(",\"retryHolds\":");
        if (retryHolds == null) {
            sb.append("null");
        } else {
            sb.append("{\"keys\":").append(retryHolds.keys()).append(",\"longestMillis\":")
                    .append(retryHolds.longestMillis()).append('}');
        }
        sb.append('}');
        return sb.toString();
    }

    private static StringBuilder field(StringBuilder sb, String name, String value) {
        sb.append('"').append(name).append("\":");
        if (value == null) {
            return sb.append("null");
        }
        sb.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }
}
