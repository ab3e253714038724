package dev.workflowworker.core.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter (docs/ARCHITECTURE.md, promise 5):
 * {@code min(max, initial × 2^(attempt-1)) × uniform[0.8, 1.2]}. The jitter spreads retries of
 * events that failed together so they do not return as a thundering herd.
 */
public final class Backoff {

    static final double JITTER_LOW = 0.8;
    static final double JITTER_SPAN = 0.4;

    private final long initialNanos;
    private final long maxNanos;
    private final DoubleSupplier uniform;

    /**
     * @param initial delay of the first retry
     * @param max     cap before jitter
     * @param uniform source of uniform values in [0, 1); injected so tests can pin the jitter
     */
    public Backoff(Duration initial, Duration max, DoubleSupplier uniform) {
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
        this.uniform = uniform;
    }

    /** A backoff with thread-local random jitter. */
    public Backoff(Duration initial, Duration max) {
        this(initial, max, () -> ThreadLocalRandom.current().nextDouble());
    }

    /**
     * @param attempt the attempt that failed, from 1
     * @return how long to wait before the next attempt
     */
    public Duration delay(int attempt) {
        int exponent = Math.max(0, Math.min(attempt - 1, 62));
        long base = initialNanos;
        // Doubling stops at the cap, so no exponent can overflow.
        for (int i = 0; i < exponent && base < maxNanos; i++) {
            base = base > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : base * 2;
        }
        base = Math.min(base, maxNanos);
        double factor = JITTER_LOW + JITTER_SPAN * uniform.getAsDouble();
        return Duration.ofNanos((long) (base * factor));
    }
}
