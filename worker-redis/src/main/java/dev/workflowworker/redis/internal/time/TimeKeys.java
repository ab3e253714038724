package dev.workflowworker.redis.internal.time;

import dev.workflowworker.redis.internal.client.CompactEntry;

import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * Where the time of a stream lives: its slots (the partitions of a partitioned stream, the one
 * shared stream), each with its delayed events and schedules under one hash tag, the stream its
 * events are appended to and the lease its mover must hold. See docs/ARCHITECTURE.md, "Time".
 *
 * <p>A slot without a lease (the shared stream) names its stream as its lease key: the scripts
 * check no lease only when given an empty lease value together with that key, so a caller of a
 * leased slot, which always names the lease key, is refused whatever value it passes.
 */
public final class TimeKeys {

    private final int count;
    private final IntFunction<String> tag;
    private final IntFunction<String> stream;
    private final IntFunction<String> lease;
    private final String homes;
    private final String wake;
    private final boolean compact;

    /**
     * @param count  the number of slots
     * @param tag    the prefix of slot {@code i}'s time keys: holds its hash tag
     * @param stream slot {@code i}'s stream, in the tag's slot
     * @param lease  slot {@code i}'s lease key, or null for slots without a lease
     * @param homes  which slot each schedule lives in
     * @param wake   the pub/sub channel that names a slot whose earliest due time moved
     * @param compact whether the slots' streams take entries in the compact form where they fit
     *                (partitions; docs/ARCHITECTURE.md, "The wire contract")
     */
    public TimeKeys(int count, IntFunction<String> tag, IntFunction<String> stream, IntFunction<String> lease,
                    String homes, String wake, boolean compact) {
        this.count = count;
        this.tag = Objects.requireNonNull(tag);
        this.stream = Objects.requireNonNull(stream);
        this.lease = lease;
        this.homes = Objects.requireNonNull(homes);
        this.wake = Objects.requireNonNull(wake);
        this.compact = compact;
    }

    /** {@return whether the slots' streams take the compact form of an entry where it fits} */
    public boolean compact() {
        return compact;
    }

    /** {@return the fields an entry of {@code encoded} is appended to a slot's stream with} */
    public Map<String, String> entry(Map<String, String> encoded) {
        return compact ? CompactEntry.entry(encoded) : encoded;
    }

    /** {@return how many slots there are} */
    public int count() {
        return count;
    }

    /** {@return the stream slot {@code i}'s due events and occurrences are appended to} */
    public String stream(int i) {
        return stream.apply(i);
    }

    /** {@return whether the mover of slot {@code i} must hold a lease} */
    public boolean leased() {
        return lease != null;
    }

    /** {@return the lease key the scripts check; for a slot without a lease, its stream (see the class comment)} */
    public String lease(int i) {
        return lease != null ? lease.apply(i) : stream(i);
    }

    /** Delayed events waiting for their due time: a sorted set, score the due time in Redis ms, member the event id. */
    public String delayed(int i) {
        return tag.apply(i) + ":delayed";
    }

    /** The waiting events' stored entries, by event id. */
    public String delayedEntries(int i) {
        return tag.apply(i) + ":delayed:e";
    }

    /** Schedule definitions (id to {@code ScheduleJson}). */
    public String schedules(int i) {
        return tag.apply(i) + ":sched";
    }

    /** Each schedule's state: where it stands, what it fired and skipped. */
    public String scheduleStates(int i) {
        return tag.apply(i) + ":sched:st";
    }

    /** Schedules by when they are next due (score), for the mover. */
    public String schedulesDue(int i) {
        return tag.apply(i) + ":sched:due";
    }

    /** The stream entry id of each schedule's last occurrence, for its overlap policy. */
    public String scheduleRuns(int i) {
        return tag.apply(i) + ":sched:run";
    }

    /**
     * The answer of one schedule deletion, by the deleting call's id, kept briefly: a call whose
     * reply was lost is sent again and must answer what the first one did.
     */
    public String scheduleDeleted(int i, String callId) {
        return tag.apply(i) + ":sched:dx:" + callId;
    }

    /** {@return which slot each schedule lives in} */
    public String homes() {
        return homes;
    }

    /**
     * {@return the pub/sub channel on which an insert that became a slot's earliest names the
     * slot}, so its mover, asleep until the earliest due time it knew, looks again. A channel, not
     * a key: it has no slot.
     */
    public String wake() {
        return wake;
    }
}
