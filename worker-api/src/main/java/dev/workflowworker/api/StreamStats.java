package dev.workflowworker.api;

/**
 * The state of a stream as its transport sees it, for metrics and diagnostics.
 *
 * @param lag            entries not yet delivered to any consumer, or -1 if unknown
 * @param pending        entries delivered and not yet settled
 * @param retryScheduled events waiting for a delayed retry
 * @param deadLetters    entries in the dead-letter stream
 * @param publishedAgain events this transport instance (not the stream: each process counts its
 *                       own, from its creation) sent a second time because the connection broke
 *                       before their first send was answered; each may be in the stream twice,
 *                       and the workers recognise the second copy by its event id, as after a
 *                       producer's own retry (see the transport's docs); 0 for a transport that
 *                       never sends an event again
 */
public record StreamStats(long lag, long pending, long retryScheduled, long deadLetters, long publishedAgain) {

    /**
     * The statistics of a transport that never sends an event again ({@code publishedAgain} 0).
     *
     * @param lag            entries not yet delivered to any consumer, or -1 if unknown
     * @param pending        entries delivered and not yet settled
     * @param retryScheduled events waiting for a delayed retry
     * @param deadLetters    entries in the dead-letter stream
     */
    public StreamStats(long lag, long pending, long retryScheduled, long deadLetters) {
        this(lag, pending, retryScheduled, deadLetters, 0);
    }
}
