package dev.workflowworker.api;

import java.util.Locale;

/** How a failure is handled. */
public enum ErrorCategory {
    /** A short-lived fault (network glitch): retried at once, with a short pause, lock still held. */
    TRANSIENT,
    /** A fault that may clear with time (contention, a downstream outage): retried after exponential backoff. */
    RECOVERABLE,
    /** A fault retrying cannot fix (invalid input, unknown event type): dead-lettered at once. */
    PERMANENT;

    private final String wire = name().toLowerCase(Locale.ROOT);

    /** {@return the lower-case name used on the wire ({@code error_category}) and in metric tags} */
    public String wireValue() {
        return wire;
    }
}
