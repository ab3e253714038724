package dev.workflowworker.benchmarks;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock-free log-linear histogram of durations (about 9 % resolution), cheap enough to record
 * every event on the hot path. The same buckets as the engine's own latency figures, so the
 * figures in docs/BENCHMARKS.md stay comparable; a copy because the engine's is not API.
 */
final class Latencies {

    private static final int SUB_BITS = 3;
    private static final int SUB = 1 << SUB_BITS;
    private static final int BUCKETS = 64 * SUB;

    private volatile AtomicLongArray counts = new AtomicLongArray(BUCKETS);

    /** @param nanos a duration in nanoseconds */
    void record(long nanos) {
        counts.incrementAndGet(index(Math.max(1, nanos)));
    }

    static int index(long v) {
        int msb = 63 - Long.numberOfLeadingZeros(v);
        if (msb < SUB_BITS) {
            return (int) v;
        }
        int sub = (int) ((v >>> (msb - SUB_BITS)) & (SUB - 1));
        return (msb - SUB_BITS + 1) * SUB + sub;
    }

    static long upperBound(int index) {
        int group = index / SUB;
        int sub = index % SUB;
        if (group == 0) {
            return sub;
        }
        int msb = group + SUB_BITS - 1;
        long base = 1L << msb;
        long step = 1L << (msb - SUB_BITS);
        return base + (sub + 1) * step - 1;
    }

    /**
     * Returns the percentiles recorded since the last call and starts a new interval.
     *
     * @return p50, p99, p99.9 and max in nanoseconds, and the count
     */
    Snapshot snapshotAndReset() {
        AtomicLongArray old = counts;
        counts = new AtomicLongArray(BUCKETS);
        long total = 0;
        long[] c = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            c[i] = old.get(i);
            total += c[i];
        }
        return new Snapshot(total, percentile(c, total, 0.50), percentile(c, total, 0.99),
                percentile(c, total, 0.999), percentile(c, total, 1.0));
    }

    private static long percentile(long[] c, long total, double q) {
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < c.length; i++) {
            seen += c[i];
            if (seen >= rank) {
                return upperBound(i);
            }
        }
        return upperBound(c.length - 1);
    }

    /**
     * @param count number of recorded durations
     * @param p50   median, nanoseconds
     * @param p99   99th percentile, nanoseconds
     * @param p999  99.9th percentile, nanoseconds
     * @param max   largest (bucket upper bound), nanoseconds
     */
    record Snapshot(long count, long p50, long p99, long p999, long max) {
    }
}
