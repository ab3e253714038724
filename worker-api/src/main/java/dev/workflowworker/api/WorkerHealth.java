package dev.workflowworker.api;

import java.time.Instant;
import java.util.Objects;

/**
 * The health of one worker at a point in time.
 *
 * @param workerId        the worker's id (also its consumer name)
 * @param status          its health
 * @param state           its lifecycle state
 * @param reason          why it is not healthy, or null when healthy
 * @param eventsProcessed processing attempts that ended in success or failure
 * @param eventsSucceeded attempts that succeeded
 * @param eventsFailed    attempts that failed
 * @param activeEvents    events being processed now
 * @param lastHeartbeat   when its loop last reported progress
 * @param lastError       the message of its most recent failure, or null
 */
public record WorkerHealth(String workerId, HealthStatus status, WorkerState state, String reason,
                           long eventsProcessed, long eventsSucceeded, long eventsFailed, int activeEvents,
                           Instant lastHeartbeat, String lastError) {

    /**
     * Validates the components.
     *
     * @param workerId        the worker's id (also its consumer name)
     * @param status          its health
     * @param state           its lifecycle state ({@code running}, {@code stopping}, {@code stopped}, {@code crashed})
     * @param reason          why it is not healthy, or null when healthy
     * @param eventsProcessed processing attempts that ended in success or failure
     * @param eventsSucceeded attempts that succeeded
     * @param eventsFailed    attempts that failed
     * @param activeEvents    events being processed now
     * @param lastHeartbeat   when its loop last reported progress
     * @param lastError       the message of its most recent failure, or null
     * @throws NullPointerException if a required component is null
     */
    public WorkerHealth {
        Objects.requireNonNull(workerId, "workerId");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(state, "state");
    }
}
