package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.time.OccurrenceEnds;

/**
 * Whether an occurrence in a partition finished: its entry is at or below the partition's
 * committed position, or in the set of those settled above it. A retry's hold is neither: the
 * occurrence still runs. See docs/ARCHITECTURE.md, "Time".
 */
final class PartitionEnds implements OccurrenceEnds {

    private final StreamClient client;
    private final StreamKeys keys;

    PartitionEnds(StreamClient client) {
        this.client = client;
        this.keys = client.keys();
    }

    @Override
    public Look look(int i, long redisNow) {
        return new Look() {
            /** The committed position, read once per look and only if asked; "" when none. */
            private String committed;

            @Override
            public boolean finished(String eventId, String entryId) {
                if (entryId == null) {
                    return true;
                }
                if (committed == null) {
                    String c = client.call("read the committed position of partition " + i,
                            () -> client.redis().hget(PartitionKeys.log(keys, i), "c"));
                    committed = c == null ? "" : c;
                }
                if (!committed.isEmpty() && compareIds(entryId, committed) <= 0) {
                    return true;
                }
                return client.call("read whether an occurrence finished",
                        () -> client.redis().sismember(PartitionKeys.settled(keys, i), entryId));
            }
        };
    }

    private static int compareIds(String a, String b) {
        int da = a.indexOf('-');
        int db = b.indexOf('-');
        int c = Long.compare(Long.parseLong(a.substring(0, da)), Long.parseLong(b.substring(0, db)));
        return c != 0 ? c : Long.compare(Long.parseLong(a.substring(da + 1)), Long.parseLong(b.substring(db + 1)));
    }
}
