package dev.workflowworker.core.internal;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The wait before an event whose lock was busy comes back. It doubles with each consecutive
 * contention on the key (with jitter), up to a second or half the lock TTL: events queued behind a
 * long handler would otherwise bounce through the transport every few milliseconds, and a longer
 * wait would be latency for every event queued behind the key.
 */
final class ContentionBackoff {

    private static final int MAX_TRACKED_KEYS = 10_000;
    private static final long MAX_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final long baseNanos;
    private final long capNanos;
    /** Consecutive contentions per key; bounded by clearing when large. */
    private final ConcurrentHashMap<String, Integer> contentions = new ConcurrentHashMap<>();

    ContentionBackoff(Duration base, Duration lockTtl) {
        this.baseNanos = base.toNanos();
        this.capNanos = Math.max(baseNanos, Math.min(MAX_DELAY_NANOS, lockTtl.toNanos() / 2));
    }

    Duration next(String lockKey) {
        if (contentions.size() > MAX_TRACKED_KEYS) {
            contentions.clear();
        }
        int n = contentions.merge(lockKey, 1, Integer::sum);
        long delay = Math.min(capNanos, baseNanos << Math.min(n - 1, 20));
        return Duration.ofNanos((long) (delay * (0.5 + ThreadLocalRandom.current().nextDouble())));
    }

    void acquired(String lockKey) {
        if (!contentions.isEmpty()) {
            contentions.remove(lockKey);
        }
    }
}
