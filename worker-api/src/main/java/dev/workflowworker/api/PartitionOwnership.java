package dev.workflowworker.api;

import java.util.List;
import java.util.Objects;

/**
 * Which partitions of a partitioned stream this process owns. Ownership moves as instances join
 * and leave: each owns about {@code partitions / live instances}. A process that cannot renew its
 * leases (its store unreachable) loses partitions, and its health is degraded while it owns fewer
 * than its share for that reason.
 *
 * @param partitions     the stream's partition count
 * @param owned          the partitions this process owns now, ascending
 * @param share          how many it should own, from the last ownership round
 * @param renewalFailing true while ownership rounds fail, so leases cannot be renewed
 */
public record PartitionOwnership(int partitions, List<Integer> owned, int share, boolean renewalFailing) {

    /**
     * Validates and copies.
     *
     * @param partitions     the partition count
     * @param owned          the owned partitions
     * @param share          the fair share
     * @param renewalFailing whether renewals fail
     */
    public PartitionOwnership {
        owned = List.copyOf(Objects.requireNonNull(owned, "owned"));
    }

    /** {@return true when this process owns fewer partitions than its share because it cannot renew leases} */
    public boolean shortOfShare() {
        return renewalFailing && owned.size() < share;
    }
}
