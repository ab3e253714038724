package dev.workflowworker.redis;

import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.partitioned.PartitionedStream;
import dev.workflowworker.redis.internal.partitioned.Partitions;
import dev.workflowworker.redis.internal.shared.SharedStream;

/** The transport's internal parts, as tests of this package reach them. */
final class TestInternals {

    private TestInternals() {
    }

    static Partitions partitions(RedisEventTransport t) {
        return ((PartitionedStream) t.mode()).partitions();
    }

    static SharedStream shared(RedisEventTransport t) {
        return (SharedStream) t.mode();
    }

    static StreamKeys keys(RedisOptions options) {
        return StreamKeys.of(options);
    }
}
