package dev.workflowworker.api;

import java.time.Duration;
import java.util.Optional;

/**
 * A failure worth retrying later (see {@link ErrorCategory#RECOVERABLE}). The retry is
 * scheduled durably through the transport after the configured exponential backoff, or after
 * {@link #retryAfter()} when the handler knows better (a rate limit's reset time, say).
 */
public class RecoverableWorkflowException extends WorkflowException {
    private static final long serialVersionUID = 1L;

    /** The delay the handler asked for, or null for the configured backoff. */
    private final Duration retryAfter;

    /**
     * Creates the exception with a detail message.
     *
     * @param message the detail message
     */
    public RecoverableWorkflowException(String message) {
        this(message, null, null);
    }

    /**
     * Creates the exception with a detail message and the delay before the retry.
     *
     * @param message    the detail message
     * @param retryAfter how long to wait before the retry, or null for the configured backoff
     */
    public RecoverableWorkflowException(String message, Duration retryAfter) {
        this(message, retryAfter, null);
    }

    /**
     * Creates the exception with a detail message, the delay before the retry and a cause.
     *
     * @param message    the detail message
     * @param retryAfter how long to wait before the retry, or null for the configured backoff
     * @param cause      the cause
     * @throws IllegalArgumentException if {@code retryAfter} is negative
     */
    public RecoverableWorkflowException(String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        if (retryAfter != null && retryAfter.isNegative()) {
            throw new IllegalArgumentException("retryAfter must not be negative: " + retryAfter);
        }
        this.retryAfter = retryAfter;
    }

    /** {@return the delay the handler asked for, or empty for the configured backoff} */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    @Override
    public ErrorCategory category() {
        return ErrorCategory.RECOVERABLE;
    }
}
