package dev.workflowworker.redis;

import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * leaves no trace. Only {@link #replay}, {@link #replayRange}, {@link #replayAll} and
 * {@link #purge} write.
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
    private final RedisDeadLetters dlq;
    private final RedisOptions options;

    private WorkflowAdmin(RedisEventTransport transport) {
        this.transport = transport;
        this.dlq = transport.deadLetters();
        this.options = transport.options();
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
     * large dead-letter streams can be walked without loading them whole.
     *
     * @param after the id of the last dead letter of the previous page, or null for the first page
     * @param limit the page size, at least 1
     * @return dead letters, oldest first
     */
    public List<RedisDeadLetters.Entry> deadLetters(String after, int limit) {
        return dlq.list(after, limit);
    }

    /**
     * Looks up one dead letter by id, e.g. to inspect its error before replaying it.
     *
     * @param id a dead letter's id
     * @return that dead letter, or empty
     */
    public Optional<RedisDeadLetters.Entry> deadLetter(String id) {
        return dlq.get(id);
    }

    /** {@return how many dead letters there are} */
    public long deadLetterCount() {
        return dlq.size();
    }

    /**
     * Sends one dead letter back to the stream with its attempt count reset and its event id
     * unchanged (so a processed marker still recognises an event that completed meanwhile).
     *
     * @param id the dead letter's id
     * @return the new stream entry id, or empty if there is no such dead letter
     */
    public Optional<String> replay(String id) {
        return dlq.replay(id);
    }

    /**
     * Replays the dead letters with ids in {@code [fromId, toId]}, at most {@code perSecond} a second.
     *
     * @param fromId    the first id, inclusive ({@code -} for the oldest)
     * @param toId      the last id, inclusive ({@code +} for the newest)
     * @param perSecond the rate limit, at least 1
     * @return how many were replayed
     * @throws InterruptedException if interrupted while pacing
     */
    public int replayRange(String fromId, String toId, int perSecond) throws InterruptedException {
        Objects.requireNonNull(fromId, "fromId");
        Objects.requireNonNull(toId, "toId");
        if (perSecond < 1) {
            throw new IllegalArgumentException("perSecond must be >= 1: " + perSecond);
        }
        long start = System.nanoTime();
        int replayed = 0;
        String from = fromId;
        while (true) {
            List<RedisDeadLetters.Entry> page = dlq.range(from, toId, PAGE);
            if (page.isEmpty()) {
                return replayed;
            }
            for (RedisDeadLetters.Entry e : page) {
                // Pace by schedule, not by sleeping a fixed time after each one.
                long due = start + TimeUnit.SECONDS.toNanos(1) * replayed / perSecond;
                long wait = due - System.nanoTime();
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
     * Deletes every dead letter.
     *
     * @return how many there were
     */
    public long purge() {
        long n = dlq.size();
        transport.call("purge dead letters", () -> transport.redis().del(options.deadLetterStream()));
        return n;
    }

    /**
     * {@return the state of the stream, its group and consumers, the retry set and the dead
     * letters}
     *
     * <p>A stream that does not exist has length 0, and a group that does not exist has lag -1 and
     * no consumers, so the stats of an unused setup read as empty rather than failing.
     */
    public QueueStats stats() {
        dev.workflowworker.api.StreamStats st = transport.stats().orElseThrow();
        return transport.call("read queue stats", () -> {
            var redis = transport.redis();
            String stream = options.stream();
            long length = 0;
            List<ConsumerStats> consumers = new ArrayList<>();
            if (redis.exists(stream)) {
                length = redis.xlen(stream);
                Object cs;
                try {
                    cs = redis.executeCommand(new CommandArguments(Protocol.Command.XINFO).add("CONSUMERS")
                            .key(stream).add(options.group()));
                } catch (JedisDataException e) {
                    if (!RedisEventTransport.isNoGroup(e)) {
                        throw e;
                    }
                    // No worker has read the stream yet: the group does not exist, so it has no consumers.
                    cs = List.of();
                }
                for (Object c : (List<?>) cs) {
                    Map<String, Object> info = StreamEntries.pairs((List<?>) c);
                    consumers.add(new ConsumerStats(StreamEntries.text(info.get("name")),
                            StreamEntries.number(info.get("pending")),
                            Duration.ofMillis(StreamEntries.number(info.get("idle")))));
                }
            }
            return new QueueStats(stream, options.group(), length, st.lag(), st.pending(), st.retryScheduled(),
                    st.deadLetters(), consumers);
        });
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
        return dlq.revRange(before == null ? "+" : "(" + before, "-", limit);
    }

    /**
     * {@return how long the oldest entry delivered to the group and not yet settled has been
     * waiting since it was added to the stream, or empty when nothing is pending}
     *
     * <p>One {@code XPENDING} summary: the age is read from the smallest pending id's time part.
     */
    public Optional<Duration> oldestPendingAge() {
        return transport.call("read oldest pending", () -> {
            var redis = transport.redis();
            if (!redis.exists(options.stream())) {
                return Optional.<Duration>empty();
            }
            Object reply;
            try {
                reply = redis.executeCommand(new CommandArguments(Protocol.Command.XPENDING).key(options.stream())
                        .add(options.group()));
            } catch (JedisDataException e) {
                if (!RedisEventTransport.isNoGroup(e)) {
                    throw e;
                }
                return Optional.<Duration>empty();
            }
            List<?> summary = (List<?>) reply;
            String smallest = summary.size() > 1 ? StreamEntries.text(summary.get(1)) : null;
            if (smallest == null) {
                return Optional.<Duration>empty();
            }
            long addedMs = Long.parseLong(smallest.substring(0, smallest.indexOf('-')));
            return Optional.of(Duration.ofMillis(Math.max(0, System.currentTimeMillis() - addedMs)));
        });
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
     * @param lag            entries not yet delivered to the group, or -1 if Redis cannot tell
     * @param pending        entries delivered and not yet settled
     * @param retryScheduled events waiting in the retry set
     * @param deadLetters    entries in the dead-letter stream
     * @param consumers      the group's consumers
     */
    public record QueueStats(String stream, String group, long length, long lag, long pending, long retryScheduled,
                             long deadLetters, List<ConsumerStats> consumers) {
    }

    /**
     * One consumer of the group.
     *
     * @param name    its name ({@code host-pid-worker<n>-<random>})
     * @param pending entries it holds
     * @param idle    time since it last read or claimed
     */
    public record ConsumerStats(String name, long pending, Duration idle) {
    }
}
