package dev.workflowworker.api;

/**
 * The state of a stream as its transport sees it, for metrics and diagnostics.
 *
 * @param lag            entries not yet delivered to any consumer, or -1 if unknown
 * @param pending        entries delivered and not yet settled
 * @param retryScheduled events waiting for a delayed retry
 * @param deadLetters    entries in the dead-letter stream
 */
public record StreamStats(long lag, long pending, long retryScheduled, long deadLetters) {
}
