package dev.workflowworker.redis;

import dev.workflowworker.redis.internal.client.ModeCheck;
import dev.workflowworker.redis.internal.client.StreamClient;

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

    /**
     * {@return the layout of the stream as Redis records it}: a recorded partition count is the
     * stream's; without one, a stream its shared group consumes is shared whatever the options'
     * count (the partitioned default unless set), and any other is read with the options' count.
     *
     * @throws IllegalStateException if the recorded count is not one, or the options set a count
     *                               (other than the default) that contradicts it
     */
    static StreamLayout read(RedisEventTransport transport) {
        RedisOptions options = transport.options();
        StreamClient client = transport.client();
        String recorded = client.call("read the partition count", () -> client.redis().get(options.partitionCountKey()));
        if (recorded == null) {
            StreamLayout configured = of(transport, options.partitions(), false);
            return configured.partitions() > 0 && ModeCheck.groups(client).contains(options.group())
                    ? new SharedLayout(transport) : configured;
        }
        int n;
        try {
            n = Integer.parseInt(recorded);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1) {
            throw new IllegalStateException("partitions: " + options.partitionCountKey() + " holds '" + recorded
                    + "', not a partition count");
        }
        // Neither the default count nor the shared mode's 0 says anything about the stream: only
        // a count set otherwise can contradict it.
        int set = options.partitions();
        if (set != n && set != 0 && set != RedisOptions.DEFAULT_PARTITIONS) {
            throw new IllegalStateException("partitions: this admin is configured with " + set
                    + " partitions but stream " + options.stream() + " was created with " + n + " (recorded in "
                    + options.partitionCountKey() + "); leave the count unset or set " + n);
        }
        return new PartitionedLayout(transport, n, true);
    }

    /** {@return the partition count; 0 for one shared stream} */
    int partitions();

    /**
     * {@return true once Redis records the layout, which then never changes}: a partitioned
     * stream's count; a shared stream may still be switched to partitions
     */
    boolean recorded();

    /**
     * {@return whether an entry written into this layout's streams takes the compact form where
     * its fields allow it} (docs/ARCHITECTURE.md, "The wire contract")
     */
    boolean compactEntries();

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
