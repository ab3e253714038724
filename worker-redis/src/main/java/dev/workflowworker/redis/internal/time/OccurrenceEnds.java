package dev.workflowworker.redis.internal.time;

/**
 * Whether a schedule's last occurrence has finished (completed or dead-lettered; a retry waiting
 * still runs), as the overlap policy asks: each mode answers from its own settlement records. See
 * docs/time.md, "Overlap".
 */
public interface OccurrenceEnds {

    /**
     * {@return the answers for one look at slot {@code slot}} A look reads what it needs at most
     * once, and only if the overlap policy asks.
     *
     * @param redisNow the look's time, in Redis ms
     */
    Look look(int slot, long redisNow);

    /** The answers of one look. */
    interface Look {
        /**
         * @param eventId the occurrence's event id
         * @param entryId the stream entry id it was appended under, or null when none is known
         * @return whether it finished
         */
        boolean finished(String eventId, String entryId);
    }
}
