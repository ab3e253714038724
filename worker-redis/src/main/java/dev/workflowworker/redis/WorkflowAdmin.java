package dev.workflowworker.redis;

import dev.workflowworker.redis.internal.client.ModeCheck;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Operating the queue by hand: inspect, replay and purge dead letters, and read the state of the
 * stream, its group and its consumers. What an operator needs to answer "why is nothing being
 * processed", "why is it slow" and "what failed". Thread-safe; close it when done.
 *
 * <p>Opening an admin and reading through it write nothing to Redis: a stream, group or
 * dead-letter stream that does not exist reads as empty and is not created, so a mistyped name
 * leaves no trace. Only {@link #replay}, {@link #replayRange}, {@link #replayAll},
 * {@link #purge} and {@link #switchToPartitioned} write.
 *
 * <p>Partitioned streams: the admin reads the partition count the stream recorded in Redis when
 * it was created, so it needs no {@code partitions} setting; when the options set one other than
 * the default that differs from the recorded count, every call fails naming both. A stream without a recorded
 * count that its shared consumer group reads is a shared stream, whatever the options say; one
 * nobody created yet is read with the options' count (the partitioned default unless set). Dead letters are listed, shown,
 * replayed and purged across all partitions, named {@code partition/id} and ordered as
 * {@link RedisDeadLetters} describes; a replayed event goes back to its own partition, and if it
 * completed meanwhile through another entry, it is acked there as a duplicate. {@link #stats()}
 * adds a row per partition with its owner.
 *
 * <pre>{@code
 * try (WorkflowAdmin admin = WorkflowAdmin.create(RedisOptions.fromUri("redis://localhost:6379"))) {
 *     admin.deadLetters(null, 20).forEach(d -> System.out.println(d.id() + " " + d.errorMessage()));
 *     admin.replayAll(50);   // at most 50 per second
 * }
 * }</pre>
 */
public final class WorkflowAdmin implements AutoCloseable {

    private static final int PAGE = 100;

    private final RedisEventTransport transport;
    /** The stream's layout once Redis records it, which it never changes after; null until then. */
    private volatile StreamLayout recorded;

    private WorkflowAdmin(RedisEventTransport transport) {
        this.transport = transport;
    }

    /**
     * {@return the stream's partition count, 0 for one shared stream}: the one recorded in Redis,
     * read until it is there (a stream may be created after the admin opened); else 0 when the
     * shared consumer group reads the stream; else the options'.
     *
     * @throws IllegalStateException if the options name a count other than the recorded one
     */
    public int partitions() {
        return layout().partitions();
    }

    /** The layout of the stream as Redis records it, asked anew until it is recorded, as a stream may be created meanwhile. */
    private StreamLayout layout() {
        StreamLayout known = recorded;
        if (known != null) {
            return known;
        }
        StreamLayout read = StreamLayout.read(transport);
        if (read.recorded()) {
            recorded = read;
        }
        return read;
    }

    private RedisDeadLetters dlq() {
        return new RedisDeadLetters(transport, layout());
    }

    /**
     * Creates an admin for operators and tools; it never creates the stream or group, so pointing
     * it at the wrong name cannot leave stray keys behind.
     *
     * @param options where Redis is and which stream and group to administer
     * @return an admin with its own connections; nothing is written to Redis
     */
    public static WorkflowAdmin create(RedisOptions options) {
        return new WorkflowAdmin(RedisEventTransport.createWithoutSetup(options));
    }

    /**
     * Lists one page of dead letters, oldest first; pass the last id of a page to get the next, so
     * large dead-letter streams can be walked without loading them whole. For a partitioned stream
     * the page is taken across all partitions, reading up to {@code limit} dead letters of each in
     * one pipelined round trip.
     *
     * @param after the id of the last dead letter of the previous page, or null for the first page
     * @param limit the page size, at least 1
     * @return dead letters, oldest first
     * @throws IllegalArgumentException if {@code after} is not a dead letter id of this stream's form
     */
    public List<RedisDeadLetters.Entry> deadLetters(String after, int limit) {
        return dlq().list(after, limit);
    }

    /**
     * Looks up one dead letter by id, e.g. to inspect its error before replaying it.
     *
     * @param id a dead letter's id ({@code partition/id} for a partitioned stream)
     * @return that dead letter, or empty
     * @throws IllegalArgumentException if {@code id} is not a dead letter id of this stream's form
     */
    public Optional<RedisDeadLetters.Entry> deadLetter(String id) {
        return dlq().get(id);
    }

    /**
     * Checks that {@code id} names one dead letter in this stream's form, as
     * {@link RedisDeadLetters#requireId} does: for tools that take ids from outside and check them
     * all before acting on any.
     *
     * @param id the id to check
     * @return {@code id}
     * @throws IllegalArgumentException saying what is wrong with {@code id} and the form to use
     */
    public String requireDeadLetterId(String id) {
        return dlq().requireId(id);
    }

    /** {@return how many dead letters there are} */
    public long deadLetterCount() {
        return dlq().size();
    }

    /**
     * Sends one dead letter back to the stream with its attempt count reset and its event id
     * unchanged (so on a shared stream a processed marker still recognises an event that completed
     * meanwhile); the dead letter of a partition goes back to that partition.
     *
     * @param id the dead letter's id
     * @return the new stream entry id ({@code partition/id} for a partitioned stream), or empty if
     *     there is no such dead letter
     * @throws IllegalArgumentException if {@code id} is not a dead letter id of this stream's form
     */
    public Optional<String> replay(String id) {
        return dlq().replay(id);
    }

    /**
     * Replays the dead letters with ids in {@code [fromId, toId]}, at most {@code perSecond} a
     * second, oldest first. Dead letters written while it runs (a handler still failing) are left
     * for later: it stops at the newest one that existed when it began. For a partitioned stream
     * the bounds are {@code partition/id}, or plain ids meaning that time in every partition.
     *
     * @param fromId    the first id, inclusive ({@code -} for the oldest)
     * @param toId      the last id, inclusive ({@code +} for the newest)
     * @param perSecond the rate limit, at least 1
     * @return how many were replayed
     * @throws InterruptedException if interrupted while pacing
     * @throws IllegalArgumentException if a bound is not an id of this stream's form
     */
    public int replayRange(String fromId, String toId, int perSecond) throws InterruptedException {
        Objects.requireNonNull(fromId, "fromId");
        Objects.requireNonNull(toId, "toId");
        if (perSecond < 1) {
            throw new IllegalArgumentException("perSecond must be >= 1: " + perSecond);
        }
        RedisDeadLetters dlq = dlq();
        String to = toId;
        if ("+".equals(to)) {
            Optional<String> newest = dlq.newestId();
            if (newest.isEmpty()) {
                return 0;
            }
            to = newest.get();
        }
        long start = transport.client().clock().nanoTime();
        int replayed = 0;
        String from = fromId;
        while (true) {
            List<RedisDeadLetters.Entry> page = dlq.range(from, to, PAGE);
            if (page.isEmpty()) {
                return replayed;
            }
            for (RedisDeadLetters.Entry e : page) {
                // Pace by schedule, not by sleeping a fixed time after each one.
                long due = start + TimeUnit.SECONDS.toNanos(1) * replayed / perSecond;
                long wait = due - transport.client().clock().nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                if (dlq.replay(e.id()).isPresent()) {
                    replayed++;
                }
            }
            from = "(" + page.get(page.size() - 1).id();
        }
    }

    /**
     * Replays every dead letter, at most {@code perSecond} a second.
     *
     * @param perSecond the rate limit, at least 1
     * @return how many were replayed
     * @throws InterruptedException if interrupted while pacing
     */
    public int replayAll(int perSecond) throws InterruptedException {
        return replayRange("-", "+", perSecond);
    }

    /**
     * Deletes every dead letter, of every partition for a partitioned stream.
     *
     * @return how many there were
     */
    public long purge() {
        return dlq().purge();
    }

    /**
     * {@return the state of the stream, its group and consumers, the retry set and the dead
     * letters}
     *
     * <p>A stream that does not exist has length 0, and a group that does not exist has lag -1 and
     * no consumers, so the stats of an unused setup read as empty rather than failing.
     *
     * <p>For a partitioned stream the totals are summed over the partitions (lag -1 if any
     * partition's is unknown), {@code retryScheduled} counts entries a retry holds,
     * {@link QueueStats#partitions()} has a row per partition, and {@code consumers} lists the
     * live instances sharing the partitions (registered by heartbeat) with the pending entries of
     * the partitions they own; every partition reads with one consumer name, so the group's own
     * consumers say nothing about who works. One pipelined round trip.
     */
    public QueueStats stats() {
        return layout().stats();
    }

    /**
     * Lists one page of dead letters, newest first: what an operator looks at first, and what a
     * search pages through with a bounded count per request.
     *
     * @param before the id of the last dead letter of the previous page, or null for the newest
     * @param limit  the page size, at least 1
     * @return dead letters, newest first
     */
    public List<RedisDeadLetters.Entry> deadLettersNewestFirst(String before, int limit) {
        return dlq().revRange(before == null ? "+" : "(" + before, "-", limit);
    }

    /**
     * {@return how long the oldest entry delivered to the group and not yet settled has been
     * waiting since it was added to the stream, or empty when nothing is pending}
     *
     * <p>One {@code XPENDING} summary: the age is read from the smallest pending id's time part.
     */
    public Optional<Duration> oldestPendingAge() {
        return layout().oldestPendingAge();
    }

    /**
     * Switches a stream from the shared (unordered) mode to the partitioned (ordered) mode, so that
     * nothing that completed runs again and nothing published is lost. In one script it checks that
     * the shared consumer group is drained (no entry pending, no retry waiting, no dead letter,
     * which the partitioned mode would not read), creates the router's group at the shared group's
     * last-delivered id and removes the shared group; then it records the partition count. Entries
     * the shared group never got (its lag) are routed into the partitions and run there, once.
     *
     * <p>Producers may keep publishing throughout. Shared workers should be stopped first: with
     * any of them running, entries are usually pending and the switch is refused; one still
     * running afterwards finds its group gone and fails instead of re-creating it, as a shared
     * start on a partitioned stream does. Start the partitioned instances afterwards, with
     * {@code partitions} set to the same count. See docs/operations.md, "Switching a stream to the
     * partitioned mode". There is no switch back: see there for why.
     *
     * @param partitions the partition count to record, 1 to {@value RedisOptions#MAX_PARTITIONS}
     * @return the last id the shared group delivered: the router starts after it
     * @throws IllegalArgumentException if the count is out of range
     * @throws IllegalStateException    saying why the stream cannot be switched (already partitioned,
     *                                  no shared group, entries pending, retries waiting, dead letters)
     */
    public String switchToPartitioned(int partitions) {
        if (partitions < 1 || partitions > RedisOptions.MAX_PARTITIONS) {
            throw new IllegalArgumentException("partitions must be between 1 and " + RedisOptions.MAX_PARTITIONS
                    + ": " + partitions);
        }
        return ModeCheck.switchToPartitioned(transport.client(), partitions);
    }

    @Override
    public void close() {
        transport.close();
    }

    /**
     * The state of the queue.
     *
     * @param stream         the stream
     * @param group          the consumer group
     * @param length         entries in the stream (including delivered ones not yet trimmed)
     * @param lag            entries not yet delivered to the group, or -1 if Redis cannot tell (always
     *                       for a partitioned stream: see {@link PartitionStats})
     * @param pending        entries delivered and not yet settled; for a partitioned stream, entries
     *                       not yet settled, read or not
     * @param retryScheduled events waiting in the retry set; for a partitioned stream, entries a
     *                       retry holds
     * @param deadLetters    entries in the dead-letter stream (all partitions')
     * @param consumers      the group's consumers; for a partitioned stream, the live instances
     *                       (see {@link #stats()})
     * @param partitions     one row per partition, in partition order; empty for one shared stream
     */
    public record QueueStats(String stream, String group, long length, long lag, long pending, long retryScheduled,
                             long deadLetters, List<ConsumerStats> consumers, List<PartitionStats> partitions) {

        /**
         * Copies the lists.
         *
         * @param stream         the stream
         * @param group          the consumer group
         * @param length         entries in the stream
         * @param lag            entries not yet delivered to the group, or -1
         * @param pending        entries delivered and not yet settled
         * @param retryScheduled events waiting in the retry set, or held by a retry
         * @param deadLetters    dead letters
         * @param consumers      the group's consumers, or the live instances
         * @param partitions     one row per partition; empty for one shared stream
         * @throws NullPointerException if a list is null
         */
        public QueueStats {
            consumers = List.copyOf(consumers);
            partitions = List.copyOf(partitions);
        }

        /**
         * The state of one shared stream, which has no partition rows.
         *
         * @param stream         the stream
         * @param group          the consumer group
         * @param length         entries in the stream
         * @param lag            entries not yet delivered to the group, or -1
         * @param pending        entries delivered and not yet settled
         * @param retryScheduled events waiting in the retry set
         * @param deadLetters    entries in the dead-letter stream
         * @param consumers      the group's consumers
         */
        public QueueStats(String stream, String group, long length, long lag, long pending, long retryScheduled,
                          long deadLetters, List<ConsumerStats> consumers) {
            this(stream, group, length, lag, pending, retryScheduled, deadLetters, consumers, List.of());
        }

        /** {@return true for a partitioned stream, which has a row per partition} */
        public boolean partitioned() {
            return !partitions.isEmpty();
        }
    }

    /**
     * One consumer of the group, or for a partitioned stream one live instance.
     *
     * @param name    its name ({@code host-pid-worker<n>-<random>}; an instance: {@code workflow-worker-<pid>-<random>})
     * @param pending entries it holds (an instance: the pending entries of the partitions it owns)
     * @param idle    time since it last read or claimed; zero for an instance, which is listed only
     *                while its heartbeat is current
     */
    public record ConsumerStats(String name, long pending, Duration idle) {
    }

    /**
     * One partition of a partitioned stream.
     *
     * @param partition   its index, from 0
     * @param length      entries in its stream (including settled ones not yet trimmed)
     * @param lag         -1: Redis cannot tell how many entries its owner has not read yet, as a
     *                    partition read as a log keeps its read position in its owner's memory
     * @param pending     entries not yet settled, read or not (waiting to be read, running, buffered
     *                    behind their key, or held by a retry)
     * @param heldRetries entries a retry holds, waiting out their backoff in place
     * @param deadLetters entries in its dead-letter stream
     * @param owner       the instance holding its lease, or empty when none does
     */
    public record PartitionStats(int partition, long length, long lag, long pending, long heldRetries,
                                 long deadLetters, String owner) {
    }
}
