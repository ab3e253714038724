package dev.workflowworker.redis;

import dev.workflowworker.api.StreamStats;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One shared stream read by one consumer group: one dead-letter stream {@code S:dlq} whose
 * dead letters are named by their plain ids, and the group's own stats.
 */
final class SharedLayout implements StreamLayout {

    private final RedisEventTransport transport;
    private final RedisOptions options;

    SharedLayout(RedisEventTransport transport) {
        this.transport = transport;
        this.options = transport.options();
    }

    @Override
    public int partitions() {
        return 0;
    }

    @Override
    public boolean recorded() {
        return false;
    }

    @Override
    public boolean compactEntries() {
        return false;
    }

    @Override
    public int deadLetterStreams() {
        return 1;
    }

    @Override
    public String deadLetterStream(int q) {
        return options.deadLetterStream();
    }

    @Override
    public String stream(int q) {
        return options.stream();
    }

    @Override
    public String name(int q, String streamId) {
        return streamId;
    }

    @Override
    public Place place(String id) {
        return new Place(0, StreamLayout.requireStreamId(sharedId(id), id));
    }

    @Override
    public String bound(String b, int q, boolean lower) {
        sharedId(b.startsWith("(") ? b.substring(1) : b);
        return b;
    }

    @Override
    public String revStart(String from, int q) {
        return from;
    }

    /** A shared stream's dead letters are plain ids; say so instead of passing Redis a partitioned one. */
    private String sharedId(String id) {
        if (id.indexOf('/') >= 0) {
            throw new IllegalArgumentException("'" + id + "' names a partition, but stream " + options.stream()
                    + " is not partitioned: its dead letters are plain ids");
        }
        return id;
    }

    @Override
    public WorkflowAdmin.QueueStats stats() {
        StreamStats st = transport.sharedStats();
        return transport.client().call("read queue stats", () -> {
            var redis = transport.client().redis();
            String stream = options.stream();
            long length = 0;
            List<WorkflowAdmin.ConsumerStats> consumers = new ArrayList<>();
            if (redis.exists(stream)) {
                length = redis.xlen(stream);
                Object cs;
                try {
                    cs = redis.executeCommand(new CommandArguments(Protocol.Command.XINFO).add("CONSUMERS")
                            .key(stream).add(options.group()));
                } catch (JedisDataException e) {
                    if (!StreamClient.isNoGroup(e)) {
                        throw e;
                    }
                    // No worker has read the stream yet: the group does not exist, so it has no consumers.
                    cs = List.of();
                }
                for (Object c : (List<?>) cs) {
                    Map<String, Object> info = StreamEntries.pairs((List<?>) c);
                    consumers.add(new WorkflowAdmin.ConsumerStats(StreamEntries.text(info.get("name")),
                            StreamEntries.number(info.get("pending")),
                            Duration.ofMillis(StreamEntries.number(info.get("idle")))));
                }
            }
            return new WorkflowAdmin.QueueStats(stream, options.group(), length, st.lag(), st.pending(),
                    st.retryScheduled(), st.deadLetters(), consumers);
        });
    }

    @Override
    public Optional<Duration> oldestPendingAge() {
        return transport.client().call("read oldest pending", () -> {
            var redis = transport.client().redis();
            if (!redis.exists(options.stream())) {
                return Optional.<Duration>empty();
            }
            Object reply;
            try {
                reply = redis.executeCommand(new CommandArguments(Protocol.Command.XPENDING).key(options.stream())
                        .add(options.group()));
            } catch (JedisDataException e) {
                if (!StreamClient.isNoGroup(e)) {
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
            return Optional.of(Duration.ofMillis(Math.max(0, transport.client().clock().wallMillis() - addedMs)));
        });
    }
}
