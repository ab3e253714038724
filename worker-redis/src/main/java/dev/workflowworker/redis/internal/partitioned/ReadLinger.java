package dev.workflowworker.redis.internal.partitioned;

import java.util.concurrent.TimeUnit;

/**
 * The partitioned reader's linger: after a round that found a few entries right after another
 * round that found some, the next round waits a little, so that reads and commits carry more
 * events each when one flow is shared by several processes (a process that keeps up otherwise
 * reads what arrived during one round trip, and every round costs about the same whatever it
 * carries). A lone event, a slow flow (a round that found entries after a wait for news, or only
 * a few) and a flow that falls behind (large rounds) never linger. Not thread-safe: used under the
 * reader's fetch lock. See docs/ARCHITECTURE.md, "The read linger".
 */
final class ReadLinger {

    /** How long after a small round the next one may wait, at most. */
    static final long LINGER_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    /** Under this many entries a round does not linger: one event, or a slow flow, is read at once. */
    static final int LINGER_MIN = 4;
    /** From this many entries a round's batch is large enough not to linger. */
    static final int LINGER_BELOW = 64;
    /**
     * Waits of one linger, at most: a wake that cuts a wait short (a key's next event ready) leaves
     * the rest, and a clock that does not move cannot hold the reader beyond these.
     */
    static final int MAX_WAITS = 8;

    /** Whether the last round found entries (with no wait for news since). */
    private boolean flowing;
    private long until;
    private int waitsLeft;

    /** A round found {@code found} entries and ended at {@code nowNanos}. */
    void afterRound(int found, long nowNanos) {
        boolean flowed = flowing;
        flowing = found > 0;
        if (flowed && found >= LINGER_MIN && found < LINGER_BELOW) {
            until = nowNanos + LINGER_NANOS;
            waitsLeft = MAX_WAITS;
        } else {
            waitsLeft = 0;
        }
    }

    /**
     * {@return how long to wait before the next round, from {@code nowNanos}; 0 to read now} Each
     * positive answer counts as one of the linger's waits.
     */
    long nanosToWait(long nowNanos) {
        if (waitsLeft <= 0) {
            return 0;
        }
        long left = until - nowNanos;
        if (left <= 0) {
            waitsLeft = 0;
            return 0;
        }
        waitsLeft--;
        return Math.min(left, LINGER_NANOS);
    }
}
