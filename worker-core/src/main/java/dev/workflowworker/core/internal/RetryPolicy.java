package dev.workflowworker.core.internal;

import dev.workflowworker.api.ErrorCategory;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What to do after a failed attempt, as a pure function of the failure's category, the attempt
 * number and the settings (docs/ARCHITECTURE.md, promise 5). Transient failures count toward
 * {@code maxRetries} like recoverable ones: an event that fails transiently forever is
 * dead-lettered rather than retried in place forever.
 */
public final class RetryPolicy {

    /** The decision. */
    public sealed interface Decision permits DeadLetter, RetryInPlace, RetryLater {
    }

    /** @param reason the dead letter's error message */
    public record DeadLetter(String reason) implements Decision {
    }

    /** @param pause how long to wait, holding the lock, before the next attempt */
    public record RetryInPlace(Duration pause) implements Decision {
    }

    /** @param delay how long until the event is redelivered, durably, to any worker */
    public record RetryLater(Duration delay) implements Decision {
    }

    private final int maxRetries;
    private final Backoff retryBackoff;
    private final Backoff transientPause;

    /**
     * @param maxRetries     retries of one event before it is dead-lettered
     * @param retryBackoff   delays of recoverable retries
     * @param transientPause pauses before in-place transient retries
     */
    public RetryPolicy(int maxRetries, Backoff retryBackoff, Backoff transientPause) {
        this.maxRetries = maxRetries;
        this.retryBackoff = Objects.requireNonNull(retryBackoff, "retryBackoff");
        this.transientPause = Objects.requireNonNull(transientPause, "transientPause");
    }

    /**
     * @param category   the failure's category
     * @param attempt    the attempt that failed, from 1
     * @param message    the failure's message
     * @param retryAfter the delay the handler asked for, if any
     * @return the decision
     */
    public Decision decide(ErrorCategory category, int attempt, String message, Optional<Duration> retryAfter) {
        if (category == ErrorCategory.PERMANENT) {
            return new DeadLetter(message);
        }
        if (attempt > maxRetries) {
            return new DeadLetter("retries exhausted after " + attempt + " attempts: " + message);
        }
        if (category == ErrorCategory.TRANSIENT) {
            return new RetryInPlace(transientPause.delay(attempt));
        }
        return new RetryLater(retryAfter.orElseGet(() -> retryBackoff.delay(attempt)));
    }
}
