package dev.workflowworker.core.memory;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;

import dev.workflowworker.core.TimeSource;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Leases held in a concurrent map, expiring by the injected clock. Fencing tokens come from one
 * counter shared by all keys, which makes them strictly increasing per key without keeping
 * per-key state after release.
 */
public final class InMemoryLockProvider implements LockProvider {

    private record Lease(long owner, long token, long expiresAtMillis) {
    }

    private final ConcurrentHashMap<String, Lease> leases = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private final AtomicLong owners = new AtomicLong();
    private final TimeSource clock;

    /**
     * Creates a provider whose leases expire by the given clock, so tests can expire a lock without
     * waiting.
     *
     * @param clock the time source leases expire by
     */
    public InMemoryLockProvider(TimeSource clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A provider on the system clock. */
    public InMemoryLockProvider() {
        this(TimeSource.system());
    }

    @Override
    public Optional<Lock> tryAcquire(String key, Duration ttl) {
        long owner = owners.incrementAndGet();
        long now = clock.wallMillis();
        Lease lease = leases.compute(key, (k, cur) -> cur == null || cur.expiresAtMillis <= now
                ? new Lease(owner, tokens.incrementAndGet(), now + ttl.toMillis()) : cur);
        return lease.owner == owner ? Optional.of(new HeldLock(key, lease.owner, lease.token)) : Optional.empty();
    }

    /**
     * The in-memory transport's commit check: whether {@code lock} still holds its lease, which
     * then lasts until released, so that no new holder can take the key while the commit runs.
     *
     * @return false if the lease was lost (expired, or another holder's now)
     */
    boolean holdUntilReleased(Lock lock) {
        if (!(lock instanceof HeldLock held) || !held.isFrom(this)) {
            return false;
        }
        long now = clock.wallMillis();
        Lease after = leases.computeIfPresent(held.key, (k, cur) -> cur.owner == held.owner && cur.expiresAtMillis > now
                ? new Lease(cur.owner, cur.token, Long.MAX_VALUE) : cur);
        return after != null && after.owner == held.owner && after.expiresAtMillis == Long.MAX_VALUE;
    }

    /** {@return how many keys have a live lease (for tests and diagnostics)} */
    public int heldCount() {
        long now = clock.wallMillis();
        return (int) leases.values().stream().filter(l -> l.expiresAtMillis > now).count();
    }

    private final class HeldLock implements Lock {
        private final String key;
        private final long owner;
        private final long token;

        HeldLock(String key, long owner, long token) {
            this.key = key;
            this.owner = owner;
            this.token = token;
        }

        boolean isFrom(InMemoryLockProvider provider) {
            return provider == InMemoryLockProvider.this;
        }

        @Override
        public String key() {
            return key;
        }

        @Override
        public long fencingToken() {
            return token;
        }

        @Override
        public boolean renew(Duration ttl) {
            long now = clock.wallMillis();
            // Never shortened: a lease held for a commit must not expire under it.
            Lease after = leases.computeIfPresent(key, (k, cur) -> cur.owner == owner && cur.expiresAtMillis > now
                    ? new Lease(owner, token, Math.max(cur.expiresAtMillis, now + ttl.toMillis())) : cur);
            return after != null && after.owner == owner && after.expiresAtMillis > now;
        }

        @Override
        public void release() {
            leases.computeIfPresent(key, (k, cur) -> cur.owner == owner ? null : cur);
        }
    }
}
