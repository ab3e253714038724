package dev.workflowworker.redis;

import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * P partition streams: one dead-letter stream {@code {S#i}:dlq} per partition, whose dead
 * letters are named {@code i/ms-seq} and merged in the order {@link RedisDeadLetters} describes,
 * and stats with a row per partition and its owner.
 */
final class PartitionedLayout implements StreamLayout {

    private final RedisEventTransport transport;
    private final RedisOptions options;
    private final int partitions;
    /** The keys of {@link #partitions} partitions, which on a cluster may differ from the options' count's. */
    private final StreamKeys keys;
    /** Whether the partition count is recorded; before that nobody created the stream and its lag is unknown. */
    private final boolean created;

    PartitionedLayout(RedisEventTransport transport, int partitions, boolean created) {
        this.transport = transport;
        this.options = transport.options();
        this.partitions = partitions;
        this.keys = transport.client().keys().forPartitions(partitions);
        this.created = created;
    }

    @Override
    public int partitions() {
        return partitions;
    }

    @Override
    public boolean recorded() {
        return created;
    }

    @Override
    public boolean compactEntries() {
        return true;
    }

    @Override
    public int deadLetterStreams() {
        return partitions;
    }

    @Override
    public String deadLetterStream(int q) {
        return keys.partitionDeadLetters(q);
    }

    @Override
    public String stream(int q) {
        return keys.partitionStream(q);
    }

    @Override
    public String name(int q, String streamId) {
        return q + "/" + streamId;
    }

    @Override
    public Place place(String id) {
        return position(id, true);
    }

    /**
     * Entries are ordered by (stream id, partition), so "from {@code p/id}" starts at {@code id}
     * in partitions from p on and just after it in those before p; a plain id is that time in
     * every partition.
     */
    @Override
    public String bound(String b, int q, boolean lower) {
        if (lower ? "-".equals(b) : "+".equals(b)) {
            return b;
        }
        boolean exclusive = b.startsWith("(");
        Place at = position(exclusive ? b.substring(1) : b, false);
        boolean includesId;
        if (at.q() < 0) {
            includesId = !exclusive;
        } else if (lower) {
            includesId = exclusive ? q > at.q() : q >= at.q();
        } else {
            includesId = exclusive ? q < at.q() : q <= at.q();
        }
        return includesId ? at.streamId() : "(" + at.streamId();
    }

    @Override
    public String revStart(String from, int q) {
        if (!from.startsWith("(")) {
            return from;
        }
        String cursor = from.substring(1);
        int slash = cursor.indexOf('/');
        if (slash < 0) {
            return from;
        }
        int p = Integer.parseInt(cursor.substring(0, slash));
        String id = cursor.substring(slash + 1);
        // Reverse of merge order (id, partition): before p/id are ids up to id in lower
        // partitions and ids below id in p and higher ones.
        return q < p ? id : "(" + id;
    }

    private Place position(String id, boolean partitionRequired) {
        int slash = id.indexOf('/');
        if (slash < 0) {
            if (partitionRequired) {
                throw new IllegalArgumentException("'" + id + "' names no partition: dead letters of partitioned stream "
                        + options.stream() + " are named partition/id, e.g. 0/"
                        + (StreamLayout.STREAM_ID.matcher(id).matches() ? id : "1764280000000-0"));
            }
            return new Place(-1, StreamLayout.requireStreamId(id, id));
        }
        int partition;
        try {
            partition = Integer.parseInt(id.substring(0, slash));
        } catch (NumberFormatException e) {
            partition = -1;
        }
        if (partition < 0 || partition >= partitions) {
            throw new IllegalArgumentException("'" + id + "' names no partition of stream " + options.stream()
                    + ": it has partitions 0 to " + (partitions - 1));
        }
        return new Place(partition, StreamLayout.requireStreamId(id.substring(slash + 1), id));
    }

    @Override
    public WorkflowAdmin.QueueStats stats() {
        return transport.client().call("read queue stats", this::readStats);
    }

    private WorkflowAdmin.QueueStats readStats() {
        int n = partitions;
        List<Response<Long>> lengths = new ArrayList<>(n);
        List<LongSupplier> held = new ArrayList<>(n);
        List<Response<Long>> dead = new ArrayList<>(n);
        List<Response<String>> leases = new ArrayList<>(n);
        Response<List<String>> members;
        try (AbstractPipeline p = Topology.pipeline(transport.client().redis())) {
            for (int i = 0; i < n; i++) {
                lengths.add(p.xlen(keys.partitionStream(i)));
                held.add(PartitionKeys.heldMarks(p, keys.partitionHeld(i)));
                dead.add(p.xlen(keys.partitionDeadLetters(i)));
                leases.add(p.get(keys.partitionLease(i)));
            }
            // Registrations expire by score; the instances themselves prune them, the admin only skips them.
            members = p.zrangeByScore(options.membersKey(), "(" + transport.client().clock().wallMillis(), "+inf");
            p.sync();
        }
        long[] unsettled = PartitionKeys.unsettled(transport.client().redis(), keys, n);
        List<WorkflowAdmin.PartitionStats> rows = new ArrayList<>(n);
        long length = 0;
        long lag = 0;
        long pending = 0;
        long retries = 0;
        long deadLetters = 0;
        Map<String, Long> pendingByOwner = new TreeMap<>();
        for (String m : members.get()) {
            pendingByOwner.put(m, 0L);
        }
        for (int i = 0; i < n; i++) {
            // Reads leave no trace in a partition read as a log: its read position lives in its
            // owner's memory, so what is not read yet is unknown, and pending is all not settled.
            long rowPending = unsettled[i];
            long rowLag = -1;
            String lease = leases.get(i).get();
            String owner = lease == null ? "" : lease.substring(0, Math.max(0, lease.lastIndexOf('|')));
            WorkflowAdmin.PartitionStats row = new WorkflowAdmin.PartitionStats(i, lengths.get(i).get(), rowLag,
                    rowPending, held.get(i).getAsLong(), dead.get(i).get(), owner);
            rows.add(row);
            length += row.length();
            lag = lag < 0 || row.lag() < 0 ? -1 : lag + row.lag();
            pending += row.pending();
            retries += row.heldRetries();
            deadLetters += row.deadLetters();
            if (!owner.isEmpty()) {
                pendingByOwner.merge(owner, row.pending(), Long::sum);
            }
        }
        List<WorkflowAdmin.ConsumerStats> instances = new ArrayList<>();
        pendingByOwner.forEach((name, p) -> instances.add(new WorkflowAdmin.ConsumerStats(name, p, Duration.ZERO)));
        return new WorkflowAdmin.QueueStats(options.stream(), options.group(), length, lag, pending, retries,
                deadLetters, instances, rows);
    }

    /** The oldest pending entry over every partition: one pipelined {@code XPENDING} summary each. */
    @Override
    public Optional<Duration> oldestPendingAge() {
        return transport.client().call("read oldest pending", () -> {
            List<Response<Object>> replies = new ArrayList<>(partitions);
            try (AbstractPipeline p = Topology.pipeline(transport.client().redis())) {
                for (int i = 0; i < partitions; i++) {
                    replies.add(p.sendCommand(new CommandArguments(Protocol.Command.XPENDING)
                            .key(keys.partitionStream(i)).add(options.group())));
                }
                p.sync();
            }
            long oldest = Long.MAX_VALUE;
            for (Response<Object> r : replies) {
                List<?> summary;
                try {
                    summary = (List<?>) r.get();
                } catch (JedisDataException e) {
                    continue; // no stream or group yet
                }
                String smallest = summary.size() > 1 ? StreamEntries.text(summary.get(1)) : null;
                if (smallest != null) {
                    oldest = Math.min(oldest, Long.parseLong(smallest.substring(0, smallest.indexOf('-'))));
                }
            }
            return oldest == Long.MAX_VALUE ? Optional.<Duration>empty()
                    : Optional.of(Duration.ofMillis(Math.max(0, transport.client().clock().wallMillis() - oldest)));
        });
    }
}
