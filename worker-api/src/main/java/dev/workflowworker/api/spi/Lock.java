package dev.workflowworker.api.spi;

import java.time.Duration;

/**
 * A held lease on a lock key. The engine renews it from a dedicated scheduler while the handler
 * runs and releases it afterwards.
 */
public interface Lock extends AutoCloseable {

    /** {@return the lock key} */
    String key();

    /** {@return the fencing token, strictly increasing per key across all acquisitions} */
    long fencingToken();

    /**
     * Extends the lease, only if this holder still owns it.
     *
     * @param ttl the new lease duration from now
     * @return false if the lease was lost (expired and possibly taken by another holder)
     * @throws RuntimeException if the lock store cannot be reached
     */
    boolean renew(Duration ttl);

    /** Releases the lease if this holder still owns it. Idempotent; never throws for a lost lease. */
    void release();

    /** Same as {@link #release()}. */
    @Override
    default void close() {
        release();
    }
}
