package dev.workflowworker.api;

import java.time.Duration;
import java.util.Optional;

/**
 * Distributed mutual exclusion by lock key, with leases and fencing tokens. Thread-safe.
 */
public interface LockProvider {

    /**
     * Tries to take the lock for {@code key} without waiting.
     *
     * @param key the lock key
     * @param ttl how long the lease lasts unless renewed
     * @return the lock, or empty when another holder has it
     * @throws RuntimeException if the lock store cannot be reached
     */
    Optional<Lock> tryAcquire(String key, Duration ttl);
}
