package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;

import java.time.Duration;
import java.util.Collection;
import java.util.Optional;

/**
 * The engine's lock provider on a transport that locks keys itself
 * ({@code EventTransport.locksKeysItself()}): locks come with each batch from the transport's
 * {@code LockingConsumer.acquire}, and are leases the transport gives up, not per event. Nothing
 * asks this provider for a lock; a transport that claims to lock keys itself but opens a plain
 * consumer is a bug, said as soon as a lock is asked for.
 */
public final class OwnLocks implements LockProvider {

    /** The one instance, compared by identity to choose the transport's own locking steps. */
    public static final OwnLocks INSTANCE = new OwnLocks();

    private OwnLocks() {
    }

    @Override
    public Optional<Lock> tryAcquire(String key, Duration ttl) {
        throw new IllegalStateException("the transport locks keys itself but opened a consumer that is not a "
                + "LockingConsumer: no per-key lock exists to take for " + key);
    }

    @Override
    public void releaseAll(Collection<? extends Lock> locks) {
        // The transport's leases outlive the events read under them.
    }
}
