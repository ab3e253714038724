package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;

import java.time.Duration;
import java.util.Collection;
import java.util.Optional;

/**
 * The lock provider of a partitioned transport. Its locks are partition leases handed out with
 * each delivery ({@code LockingConsumer.acquire}); there is nothing to take per key, and a
 * lease is given up by the transport, not per event.
 */
public final class PartitionLeases implements LockProvider {

    static final PartitionLeases INSTANCE = new PartitionLeases();

    private PartitionLeases() {
    }

    @Override
    public Optional<Lock> tryAcquire(String key, Duration ttl) {
        throw new UnsupportedOperationException("a partitioned stream locks by partition lease: events of one key "
                + "are handed out one at a time, so there is no lock to take per key");
    }

    @Override
    public void releaseAll(Collection<? extends Lock> locks) {
        // Leases outlive the events read under them.
    }
}
