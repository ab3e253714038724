package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.redis.internal.client.RedisConnector;
import dev.workflowworker.redis.internal.client.Scripts;
import dev.workflowworker.redis.internal.shared.KeyLocks;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Leased locks on Redis with fencing tokens: a lock is the key {@code <prefix>lock:<key>} set to
 * a random owner and its token with {@code PX ttl} when absent; the fencing token comes from
 * {@code INCR <prefix>fence} in the same script. One counter for all keys keeps memory constant
 * while tokens still increase strictly per key, and only successful acquisitions draw one. Renewal and release compare the owner first, so a holder
 * whose lease expired can neither extend nor delete its successor's lock.
 *
 * <p>Obtain one with {@link #create(RedisOptions)} (own connection pool, close it when done) or
 * share a transport's pool with {@link RedisEventTransport#lockProvider()}. Thread-safe.
 */
public final class RedisLockProvider implements LockProvider, AutoCloseable {

    private final KeyLocks locks;

    RedisLockProvider(KeyLocks locks) {
        this.locks = locks;
    }

    /**
     * A lock provider with a connection pool of its own.
     *
     * @param options the options (connection and key prefix)
     * @return the provider; {@link #close()} it to release its connections
     */
    public static RedisLockProvider create(RedisOptions options) {
        Objects.requireNonNull(options, "options");
        RedisConnector connector = new RedisConnector(options, options.password(), "workflow-worker-locks");
        return new RedisLockProvider(new KeyLocks(options, connector.newPooledClient(), new Scripts(), true));
    }

    /** The locks themselves, for the transport's consumers that take them in their own scripts. */
    KeyLocks keyLocks() {
        return locks;
    }

    /**
     * Tries to take the lock for {@code key} without waiting.
     *
     * @param key the lock key
     * @param ttl how long the lease lasts unless renewed
     * @return the lock, or empty when another holder has it
     * @throws RedisUnavailableException if Redis cannot be reached
     */
    @Override
    public Optional<Lock> tryAcquire(String key, Duration ttl) {
        return locks.tryAcquire(key, ttl);
    }

    /**
     * Takes the locks of a whole batch in one script call.
     *
     * @throws RedisUnavailableException if Redis cannot be reached
     */
    @Override
    public List<Optional<Lock>> tryAcquireAll(List<String> keys, Duration ttl) {
        return locks.tryAcquireAll(keys, ttl);
    }

    /** Releases this provider's locks in one script call; others one by one. Never throws. */
    @Override
    public void releaseAll(Collection<? extends Lock> held) {
        locks.releaseAll(held);
    }

    /** Closes the connection pool if this provider owns it. Idempotent. */
    @Override
    public void close() {
        locks.close();
    }
}
