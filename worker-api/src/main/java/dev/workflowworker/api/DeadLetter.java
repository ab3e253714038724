package dev.workflowworker.api;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * Why and when an event was moved to the dead-letter stream. Transports store it next to the
 * original entry (wire fields {@code error_message}, {@code error_stack}, {@code error_category},
 * {@code attempts}, {@code worker_id}, {@code moved_at}).
 *
 * @param category     the category of the last failure
 * @param errorMessage a precise human-readable reason; never null
 * @param errorStack   the stack trace of the last failure, or empty
 * @param attempts     how many processing attempts were made (0 if the entry never reached a handler)
 * @param workerId     the worker that gave up on the event
 * @param movedAt      when the event was dead-lettered
 */
public record DeadLetter(ErrorCategory category, String errorMessage, String errorStack, int attempts,
                         String workerId, Instant movedAt) {

    /**
     * Validates the components.
     *
     * @param category     the category of the last failure
     * @param errorMessage a precise human-readable reason; never null
     * @param errorStack   the stack trace of the last failure; null or empty when none
     * @param attempts     how many processing attempts were made (0 if the entry never reached a handler)
     * @param workerId     the worker that gave up on the event; null or empty when unknown
     * @param movedAt      when the event was dead-lettered
     * @throws NullPointerException if a required component is null
     */
    public DeadLetter {
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(errorMessage, "errorMessage");
        // Milliseconds, as every other timestamp of the format (the seed wrote JavaScript's toISOString()).
        movedAt = Objects.requireNonNull(movedAt, "movedAt").truncatedTo(ChronoUnit.MILLIS);
        errorStack = errorStack == null ? "" : errorStack;
        workerId = workerId == null ? "" : workerId;
    }
}
