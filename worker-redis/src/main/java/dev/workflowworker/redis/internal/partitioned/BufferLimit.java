package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.redis.internal.partitioned.Partitions.Lease;
import dev.workflowworker.redis.internal.partitioned.Partitions.Part;

import java.util.List;

/**
 * What the partitioned reader may read once its buffer is at its limit. The buffer fills with the
 * entries of partitions whose keys take few (a key held by a retry among many entries), so at the
 * limit only partitions with fewer than {@link #LOW_WATER} entries waiting here are read, opened
 * or waited on, up to twice the limit: otherwise their keys (a quiet partition's new event, a
 * partition just taken) would wait for the pile-up elsewhere to drain (docs/ARCHITECTURE.md,
 * "Ordered processing"; docs/BENCHMARKS.md, "j16c" and "j17read").
 */
final class BufferLimit {

    /** Entries buffered (read, not yet settled) before reading is limited to partitions with few waiting. */
    static final int BUFFER_LIMIT = 10_000;
    /**
     * Below this many entries waiting here, a partition that had more in Redis at its last read is
     * running dry: the worker that took the entries wakes another to read it, and at the buffer
     * limit it (and any partition with so few) is still read (docs/ARCHITECTURE.md, "Ordered processing").
     */
    static final int LOW_WATER = PartitionReader.READ_COUNT / 4;

    private final Partitions partitions;
    private final Part[] parts;
    private final KeySequencer sequencer;
    /** Under the reader's fetch lock: rounds read at the limit, so each starts at another partition. */
    private int rounds;
    /**
     * While the reader waits for news at the limit: which partitions the wait covers (published
     * before the partitions' counts are read for it), else null; see {@link #afterTake}.
     */
    private volatile boolean[] waited;

    BufferLimit(Partitions partitions, Part[] parts, KeySequencer sequencer) {
        this.partitions = partitions;
        this.parts = parts;
        this.sequencer = sequencer;
    }

    /**
     * {@return how many partitions a round may read: unbounded below the limit, else as many
     * reads of {@link PartitionReader#READ_COUNT} as fit under twice the limit (0 or less: none)}
     */
    int room() {
        int size = sequencer.size();
        return size < BUFFER_LIMIT ? Integer.MAX_VALUE : (2 * BUFFER_LIMIT - size) / PartitionReader.READ_COUNT;
    }

    /** {@return the partition a round at the limit starts at: each starts at the next one} */
    int nextStart() {
        return Math.floorMod(rounds++, parts.length);
    }

    /**
     * {@return true when {@code part} has fewer than {@link #LOW_WATER} entries waiting here} At
     * the limit only such a partition is read, opened or waited on, whatever its state: running
     * dry, read to its end (quiet), newly taken, or waiting to reopen.
     */
    boolean low(Part part) {
        return sequencer.waiting(part.index) < LOW_WATER;
    }

    /** {@return true when an owned partition may be read, opened or waited on at the limit} */
    boolean anyLow() {
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost && !part.releasing && low(part)) {
                return true;
            }
        }
        return false;
    }

    /**
     * At the limit, when no partition may be read (none has few entries waiting, or the buffer is
     * at twice the limit), waits on the sequencer, up to {@code nanos}; {@return whether it waited}
     * With the signals {@code seen} before the fetch lock was tried, and a take that leaves a
     * partition with few entries waiting meanwhile wakes it ({@link #afterTake}), so neither is missed.
     */
    boolean awaitIfNoneLow(int room, long nanos, long seen) throws InterruptedException {
        beginWait();
        try {
            if (room > 0 && anyLow()) {
                return false;
            }
            sequencer.await(nanos, seen);
            return true;
        } finally {
            endWait();
        }
    }

    /** Starts a wait for news at the limit; {@return the partitions it covers, to be marked by the caller} */
    boolean[] beginWait() {
        boolean[] covered = new boolean[parts.length];
        waited = covered;
        return covered;
    }

    void endWait() {
        waited = null;
    }

    /**
     * After a worker took deliveries: a partition running dry wakes a waiting worker to read it
     * while these run (its keys would otherwise wait until nothing at all is ready: with few keys,
     * a round of every key out). A partition the take left with few entries waiting, while the
     * reader waits for news at the limit without it, cuts that wait short. The wait's cover is
     * published before its counts are read: a take that misses it left its count for the reader to see.
     */
    void afterTake(List<KeySequencer.Taken> taken) {
        if (anyRunningDry()) {
            sequencer.wake();
        }
        boolean[] covered = waited;
        if (covered == null) {
            return;
        }
        int last = -1;
        for (KeySequencer.Taken t : taken) {
            int p = t.partition();
            if (p != last && p >= 0 && p < covered.length && !covered[p] && sequencer.waiting(p) < LOW_WATER) {
                sequencer.wake();
                partitions.wake();
                return;
            }
            last = p;
        }
    }

    /**
     * {@return true when a partition read and opened under its current lease had more entries in
     * Redis at its last read and has fewer than {@link #LOW_WATER} waiting here} A hint read
     * outside the fetch lock too: a stale answer costs one needless wake or one late read.
     */
    private boolean runningDry(Part part) {
        Lease l = part.lease;
        return l != null && !l.lost && !part.releasing && part.readerLease == l && part.readable && !part.rewind
                && part.log != null && !part.quiet && part.log.readAbove() < PartitionReader.READ_AHEAD_LIMIT
                && low(part);
    }

    private boolean anyRunningDry() {
        for (Part part : parts) {
            if (runningDry(part)) {
                return true;
            }
        }
        return false;
    }
}
