package dev.workflowworker.redis.internal.partitioned;

/**
 * Points of the partitioned reader where a test makes a race happen on purpose, or watches what
 * only the reader sees. Given once, when the transport is made; {@link #NONE} in production, so
 * no production class carries a mutable hook.
 */
public interface PartitionProbe {

    /** Does nothing. */
    PartitionProbe NONE = new PartitionProbe() {
    };

    /** The reader looked for wakes for the last time and has not sent its blocking XREAD yet. */
    default void beforeBlockingRead() {
    }

    /**
     * An out delivery passed the lease check and is not back in the buffer yet; runs under the
     * monitor that orders the re-offer against the loss of the lease.
     */
    default void beforeRequeue() {
    }

    /**
     * An ownership round found these partitions free and has not sent their draws yet; runs on
     * the ownership thread.
     *
     * @param partitions the partitions about to be drawn
     */
    default void beforeDraw(java.util.List<Integer> partitions) {
    }

    /**
     * An outcome was refused because the partition was opened again since it was read: the
     * partition is marked to reopen, and the caller has not finished settling the delivery yet.
     */
    default void afterStaleOpen() {
    }

    /** On a cluster, a partition's wait opened (+1) or closed (-1) its blocking connection. */
    default void waitConnection(int change) {
    }
}
