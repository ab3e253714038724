package dev.workflowworker.redis;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the admin and the dead letters see differently in the two modes (docs/ARCHITECTURE.md,
 * "One mode per stream"): which dead-letter streams exist and how a dead letter's id names one
 * of them, and how queue stats are read. Chosen once from the partition count the admin decided,
 * so {@link WorkflowAdmin} and {@link RedisDeadLetters} ask it instead of checking the mode.
 */
sealed interface StreamLayout permits SharedLayout, PartitionedLayout {

    /**
     * The layout for {@code partitions} (0 for one shared stream); {@code created} says the
     * partitioned stream's count is recorded, without which its lag is unknown.
     */
    static StreamLayout of(RedisEventTransport transport, int partitions, boolean created) {
        return partitions > 0 ? new PartitionedLayout(transport, partitions, created) : new SharedLayout(transport);
    }

    /** {@return the partition count; 0 for one shared stream} */
    int partitions();

    /** {@return how many dead-letter streams there are, indexed from 0} */
    int deadLetterStreams();

    /** {@return the key of dead-letter stream {@code q}} */
    String deadLetterStream(int q);

    /** {@return the stream that dead-letter stream {@code q}'s entries are replayed into} */
    String stream(int q);

    /** {@return the public id of the entry {@code streamId} in dead-letter stream (or stream) {@code q}} */
    String name(int q, String streamId);

    /**
     * {@return the place of one dead letter named by {@code id}}; the sequence number may still be missing
     *
     * @throws IllegalArgumentException if {@code id} is not of this layout's form
     */
    Place place(String id);

    /** {@return the XRANGE bound in dead-letter stream {@code q} of an oldest-first range bound} */
    String bound(String b, int q, boolean lower);

    /** {@return the XREVRANGE start in dead-letter stream {@code q} of a newest-first start} */
    String revStart(String from, int q);

    /** {@return the stats {@link WorkflowAdmin#stats()} describes} */
    WorkflowAdmin.QueueStats stats();

    /** {@return the oldest pending entry's age {@link WorkflowAdmin#oldestPendingAge()} describes} */
    Optional<Duration> oldestPendingAge();

    /**
     * {@return {@code streamId}, checked to be a stream id Redis accepts}
     *
     * @throws IllegalArgumentException naming {@code id}, the dead letter id it came from
     */
    static String requireStreamId(String streamId, String id) {
        if (!STREAM_ID.matcher(streamId).matches() || !unsigned64(streamId)) {
            throw new IllegalArgumentException("'" + id + "' is not a dead letter id");
        }
        return streamId;
    }

    /** Redis refuses an id part beyond 64 bits with an error that would read as Redis failing. */
    private static boolean unsigned64(String streamId) {
        try {
            for (String part : streamId.split("-")) {
                Long.parseUnsignedLong(part);
            }
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** A stream id, possibly without its sequence number. */
    Pattern STREAM_ID = Pattern.compile("\\d+(-\\d+)?");

    /**
     * A dead letter's place: the dead-letter stream's index ({@code -1} when a plain id stands for
     * that time in every partition) and its id there.
     */
    record Place(int q, String streamId) {
    }
}
