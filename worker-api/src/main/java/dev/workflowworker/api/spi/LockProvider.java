package dev.workflowworker.api.spi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
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

    /**
     * Tries to take the locks for several keys at once, in order. Providers backed by a remote
     * store override this to do it in one round trip. A key that appears twice is acquired at
     * most once.
     *
     * @param keys the lock keys
     * @param ttl  how long each lease lasts unless renewed
     * @return one element per key, in the same order: the lock, or empty when it is held elsewhere
     * @throws RuntimeException if the lock store cannot be reached
     */
    default List<Optional<Lock>> tryAcquireAll(List<String> keys, Duration ttl) {
        List<Optional<Lock>> out = new ArrayList<>(keys.size());
        for (String key : keys) {
            out.add(tryAcquire(key, ttl));
        }
        return out;
    }

    /**
     * Releases several locks obtained from this provider; providers backed by a remote store
     * override this to do it in one round trip. Never throws for a lost lease.
     *
     * @param locks the locks
     */
    default void releaseAll(Collection<? extends Lock> locks) {
        for (Lock lock : locks) {
            lock.release();
        }
    }
}
