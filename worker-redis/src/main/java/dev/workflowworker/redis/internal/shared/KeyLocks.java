package dev.workflowworker.redis.internal.shared;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.redis.RedisLockProvider;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.RedisUnavailableException;
import dev.workflowworker.redis.internal.client.Scripts;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The locks of {@link RedisLockProvider}, and what a shared stream's consumer needs of them to
 * take and release them in its own scripts: owners, the lock key of a lock, a lock taken by
 * such a script. See RedisLockProvider for the scheme. Thread-safe.
 */
public final class KeyLocks implements LockProvider, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KeyLocks.class);

    private final RedisOptions options;
    private final StreamKeys keyNames;
    private final UnifiedJedis redis;
    private final Scripts scripts;
    private final boolean ownsClient;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Owners are unique per acquisition: a random per-provider prefix and a sequence number. */
    private final String ownerPrefix = UUID.randomUUID().toString() + ':';
    private final AtomicLong ownerSeq = new AtomicLong();

    public KeyLocks(RedisOptions options, UnifiedJedis redis, Scripts scripts, boolean ownsClient) {
        this.options = options;
        this.keyNames = StreamKeys.of(options);
        this.redis = redis;
        this.scripts = scripts;
        this.ownsClient = ownsClient;
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
        Objects.requireNonNull(key, "key");
        long ttlMillis = ttlMillis(ttl);
        String owner = newOwner();
        String lockKey = keyNames.lockKey(key);
        long token = StreamEntries.number(call("acquire lock " + key, () -> scripts.lockAcquire.eval(redis,
                List.of(lockKey, keyNames.fenceKey()), List.of(owner, Long.toString(ttlMillis)),
                options.waitReplicas(), options.waitTimeout().toMillis())));
        if (token == 0) {
            return Optional.empty();
        }
        return Optional.of(new RedisLock(key, lockKey, owner, token, owner + '|' + token));
    }

    /**
     * Takes the locks of a whole batch in one script call.
     *
     * @throws RedisUnavailableException if Redis cannot be reached
     */
    @Override
    public List<Optional<Lock>> tryAcquireAll(List<String> keys, Duration ttl) {
        if (keys.isEmpty()) {
            return List.of();
        }
        long ttlMillis = ttlMillis(ttl);
        List<String> scriptKeys = new ArrayList<>(keys.size() + 1);
        List<String> args = new ArrayList<>(keys.size() + 1);
        for (String key : keys) {
            scriptKeys.add(keyNames.lockKey(Objects.requireNonNull(key, "key")));
            args.add(newOwner());
        }
        scriptKeys.add(keyNames.fenceKey());
        args.add(Long.toString(ttlMillis));
        List<?> tokens = (List<?>) call("acquire " + keys.size() + " locks",
                () -> scripts.lockAcquireAll.eval(redis, scriptKeys, args, options.waitReplicas(),
                        options.waitTimeout().toMillis()));
        List<Optional<Lock>> out = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            long token = StreamEntries.number(tokens.get(i));
            out.add(token == 0 ? Optional.empty()
                    : Optional.of(new RedisLock(keys.get(i), scriptKeys.get(i), args.get(i), token,
                            args.get(i) + '|' + token)));
        }
        return out;
    }

    /** Releases this provider's locks in one script call; others one by one. Never throws. */
    @Override
    public void releaseAll(Collection<? extends Lock> locks) {
        List<String> keys = new ArrayList<>(locks.size());
        List<String> owners = new ArrayList<>(locks.size());
        for (Lock lock : locks) {
            if (lock instanceof RedisLock rl && rl.provider() == this) {
                if (rl.released.compareAndSet(false, true)) {
                    keys.add(rl.lockKey);
                    owners.add(rl.owner);
                }
            } else {
                lock.release();
            }
        }
        if (keys.isEmpty()) {
            return;
        }
        try {
            call("release " + keys.size() + " locks", () -> scripts.lockReleaseAll.eval(redis, keys, owners));
        } catch (RuntimeException e) {
            // The leases expire by themselves; failing to delete them early only delays the next holders.
            log.warn("Releasing {} locks failed; they expire with their leases: {}", keys.size(), e.toString());
        }
    }

    /** @return an owner string no other acquisition of any provider uses */
    String newOwner() {
        return ownerPrefix + Long.toString(ownerSeq.incrementAndGet(), 36);
    }

    /**
     * A lock taken outside this class (a transport's combined claim), whose value is the owner and
     * a bare {@code '|'}: its token was drawn after the value was sent.
     */
    Lock lockTakenElsewhere(String key, String lockKey, String owner, long token) {
        return new RedisLock(key, lockKey, owner, token, owner + '|');
    }

    /** @return the exact value an unreleased lock of this provider holds in Redis, or null for any other lock */
    String valueOf(Lock lock) {
        return lock instanceof RedisLock rl && rl.provider() == this && !rl.released.get() ? rl.value : null;
    }

    /** @return the Redis key of a lock of this provider */
    static String lockKeyOf(Lock lock) {
        return ((RedisLock) lock).lockKey;
    }

    /** Records that a script outside this class deleted the lock, so it is not released twice. */
    static void releasedElsewhere(Lock lock) {
        ((RedisLock) lock).released.set(true);
    }

    static long ttlMillisOf(Duration ttl) {
        return ttlMillis(ttl);
    }

    /** Closes the connection pool if this provider owns it. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && ownsClient) {
            redis.close();
        }
    }

    private static long ttlMillis(Duration ttl) {
        Objects.requireNonNull(ttl, "ttl");
        if (ttl.toMillis() < 1) {
            throw new IllegalArgumentException("ttl must be at least 1 ms: " + ttl);
        }
        return ttl.toMillis();
    }

    private <T> T call(String what, java.util.function.Supplier<T> op) {
        if (closed.get()) {
            throw new IllegalStateException("the Redis lock provider is closed");
        }
        // Repeating is safe: acquisition recognises its own owner, renew and release compare it.
        return StreamClient.callRetryingOnce(redis, options, what, op);
    }

    private final class RedisLock implements Lock {
        private final String key;
        private final String lockKey;
        private final String owner;
        /** The key's value while this holder has it: renewal and release match its owner prefix. */
        private final String value;
        private final long token;
        private final AtomicBoolean released = new AtomicBoolean();

        RedisLock(String key, String lockKey, String owner, long token, String value) {
            this.key = key;
            this.lockKey = lockKey;
            this.owner = owner;
            this.value = value;
            this.token = token;
        }

        KeyLocks provider() {
            return KeyLocks.this;
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
            long ttlMillis = ttlMillis(ttl);
            if (released.get()) {
                return false;
            }
            return StreamEntries.number(call("renew lock " + key, () -> scripts.lockRenew.eval(redis,
                    List.of(lockKey), List.of(owner, Long.toString(ttlMillis))))) == 1;
        }

        @Override
        public void release() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            try {
                call("release lock " + key, () -> scripts.lockRelease.eval(redis, List.of(lockKey), List.of(owner)));
            } catch (RuntimeException e) {
                // The lease expires by itself; failing to delete it early only delays the next holder.
                log.warn("Releasing lock {} (token {}) failed; it expires with its lease: {}", key, token, e.toString());
            }
        }

        @Override
        public String toString() {
            return "RedisLock{key=" + key + ", fencingToken=" + token + '}';
        }
    }
}
