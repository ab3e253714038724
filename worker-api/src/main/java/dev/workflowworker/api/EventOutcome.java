package dev.workflowworker.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What happened to one delivery, as told to {@link WorkerListener}s. Immutable.
 *
 * @param workerId       the worker that handled the delivery
 * @param deliveryId     the transport's entry id
 * @param event          the event, or null when the entry was malformed
 * @param kind           what happened
 * @param attempt        the attempt this outcome is for
 * @param category       the failure's category, or null for success, duplicates and contention
 * @param error          the failure, or null
 * @param processingTime time spent in the handler (zero when it did not run)
 * @param retryAt        when the event will be redelivered, or null when it will not
 */
public record EventOutcome(String workerId, String deliveryId, WorkflowEvent event, Kind kind, int attempt,
                           ErrorCategory category, Throwable error, Duration processingTime, Instant retryAt) {

    /**
     * Validates the components.
     *
     * @param workerId       the worker that handled the delivery
     * @param deliveryId     the transport's entry id
     * @param event          the event, or null when the entry was malformed
     * @param kind           what happened
     * @param attempt        the attempt this outcome is for
     * @param category       the failure's category, or null for success, duplicates and contention
     * @param error          the failure, or null
     * @param processingTime time spent in the handler; null or zero when it did not run
     * @param retryAt        when the event will be redelivered, or null when it will not
     * @throws NullPointerException if a required component is null
     */
    public EventOutcome {
        Objects.requireNonNull(workerId, "workerId");
        Objects.requireNonNull(deliveryId, "deliveryId");
        Objects.requireNonNull(kind, "kind");
        processingTime = processingTime == null ? Duration.ZERO : processingTime;
    }

    /** The kinds of outcome. */
    public enum Kind {
        /** The handler succeeded; the event is acknowledged and marked processed. */
        SUCCEEDED,
        /** The handler failed transiently and is run again at once, lock still held. */
        RETRYING,
        /** The handler failed; the event is rescheduled for {@code retryAt}. */
        RETRY_SCHEDULED,
        /** The event was moved to the dead-letter stream. */
        DEAD_LETTERED,
        /** The event had already completed; this redelivery was acknowledged without running. */
        DUPLICATE,
        /** Another holder had the lock; the event is redelivered shortly without counting an attempt. */
        LOCK_CONTENDED,
        /**
         * The lease was lost while the handler ran; its result was not accepted as success (nor,
         * when it failed for good, as a dead letter): the event is delivered again.
         */
        LEASE_LOST,
        /** The service shut down before the event finished; it was handed back for redelivery. */
        RELEASED
    }
}
