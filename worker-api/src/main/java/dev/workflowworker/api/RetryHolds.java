package dev.workflowworker.api;

/**
 * Lock keys whose next events wait behind a recoverable retry, in a transport that keeps each
 * key's events in order: a retry holds its key through its backoff while other keys go on. A key
 * held for long is an execution stuck on a failing event.
 *
 * @param keys          how many keys wait out a retry's backoff now
 * @param longestMillis how long the longest-held of them has been held, in milliseconds; 0 when none
 */
public record RetryHolds(int keys, long longestMillis) {

    /** No key held. */
    public static final RetryHolds NONE = new RetryHolds(0, 0);
}
