package dev.workflowworker.api;

/** How a failure is handled. */
public enum ErrorCategory {
    /** A short-lived fault (network glitch): retried at once, with a short pause, lock still held. */
    TRANSIENT,
    /** A fault that may clear with time (contention, a downstream outage): retried after exponential backoff. */
    RECOVERABLE,
    /** A fault retrying cannot fix (invalid input, unknown event type): dead-lettered at once. */
    PERMANENT
}
