package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.PartitionOwnership;
import dev.workflowworker.api.RetryHolds;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.PartialPublishException;
import dev.workflowworker.redis.PartitionRouting;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.StreamMode;
import dev.workflowworker.redis.internal.client.CompactEntry;
import dev.workflowworker.redis.internal.client.Replies;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.time.DelayedStore;
import dev.workflowworker.redis.internal.time.ScheduleFiring;
import dev.workflowworker.redis.internal.time.ScheduleStore;
import dev.workflowworker.redis.internal.time.TimeKeys;
import dev.workflowworker.redis.internal.time.TimeLoop;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * P partition streams, each read as a log by the one process holding its lease; events are
 * routed to a partition by lock key (docs/ARCHITECTURE.md, "Ordered processing").
 */
public final class PartitionedStream implements StreamMode {

    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;
    private final Partitions partitions;
    private final TimeLoop<Partitions.Lease> timers;
    private final DelayedStore delayed;
    private final ScheduleStore schedules;

    public PartitionedStream(StreamClient client, PartitionProbe probe) {
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
        this.partitions = new Partitions(client, probe);
        TimeKeys time = PartitionKeys.time(keys, options);
        int n = options.partitions();
        this.delayed = new DelayedStore(client, time, e -> PartitionRouting.partitionOf(e.lockKey(), n));
        this.schedules = new ScheduleStore(client, time,
                s -> PartitionRouting.partitionOf(s.executionId() != null ? s.executionId() : s.id(), n),
                e -> publishAll(List.of(e), List.of(client.codec().encode(e, 1))).get(0));
        this.timers = new TimeLoop<>(new TimeLoop.Slots<>() {
            @Override
            public Partitions.Lease held(int i) {
                return partitions.heldLease(i);
            }

            @Override
            public String leaseValue(Partitions.Lease l) {
                return l.value;
            }
        }, client, time, new ScheduleFiring(client, time, schedules, new PartitionEnds(client)));
        partitions.onTaken = timers::wakeAll;
    }

    @Override
    public void start() {
        try {
            partitions.setUp();
        } finally {
            // Also when Redis is not reachable yet: the rounds set up the layout once it is.
            partitions.start();
            timers.start();
        }
    }

    @Override
    public String streamOf(WorkflowEvent event) {
        return keys.partitionStream(PartitionRouting.partitionOf(event.lockKey(), options.partitions()));
    }

    /** A partition's entries are compact when their fields allow it (docs/ARCHITECTURE.md, "The wire contract"). */
    @Override
    public Map<String, String> entry(Map<String, String> encoded) {
        return CompactEntry.entry(encoded);
    }

    @Override
    public List<String> publishAll(List<WorkflowEvent> events, List<Map<String, String>> encoded) {
        List<Map<String, String>> entries = new ArrayList<>(encoded.size());
        for (Map<String, String> fields : encoded) {
            entries.add(CompactEntry.entry(fields));
        }
        return write(events, entries);
    }

    private List<String> write(List<WorkflowEvent> events, List<Map<String, String>> encoded) {
        if (options.cluster()) {
            return publishPerPartition(events, encoded);
        }
        return client.xaddAll(encoded, i -> streamOf(events.get(i)));
    }

    /**
     * On a cluster, each partition's events go in one script call, so a slot moving mid-batch
     * cannot write a later event of a key before an earlier one that was redirected; each call
     * is followed by a wake on the partition's news channel, for its owner's node waiter. A node
     * that fails (or is known down) fails only its own partitions' events: the others are
     * published, and {@link PartialPublishException} says which are not confirmed. A node whose
     * pooled connection the server had closed (its {@code timeout}, a proxy, {@code CLIENT KILL})
     * gets its calls once more on a fresh connection, as {@link StreamClient#call} sends a whole
     * publish again when every node's did: which nodes' connections went stale must not decide
     * between a success and a partial failure (docs/ARCHITECTURE.md, "Redis Cluster").
     */
    private List<String> publishPerPartition(List<WorkflowEvent> events, List<Map<String, String>> encoded) {
        Map<String, List<Integer>> byStream = new LinkedHashMap<>();
        for (int i = 0; i < events.size(); i++) {
            byStream.computeIfAbsent(streamOf(events.get(i)), k -> new ArrayList<>()).add(i);
        }
        List<String> streams = new ArrayList<>(byStream.keySet());
        // Sent again only after a broken connection, never after a timeout (a hung node would wait as long
        // again): an entry then written twice is settled by its event id, as after a producer's own retry.
        Replies replies = client.callPublish("publish " + events.size() + " events", events.size(), () -> {
            Replies r = client.scripts().publishAll.evalEach(client.redis(),
                    streams.size(), i -> List.of(streams.get(i)), i -> {
                        List<String> args = new ArrayList<>();
                        for (int e : byStream.get(streams.get(i))) {
                            Map<String, String> fields = encoded.get(e);
                            args.add(Integer.toString(fields.size() * 2));
                            fields.forEach((k, v) -> {
                                args.add(k);
                                args.add(v);
                            });
                        }
                        return args;
                    }, client.waitReplicas(), client.waitMs(), client.newsWakes(streams::get), true, client.nodes());
            // A node's calls sent again: their events may be in their partition twice.
            for (int s = 0; s < streams.size(); s++) {
                if (r.wasResent(s)) {
                    client.publishedAgain(byStream.get(streams.get(s)).size());
                }
            }
            return r.requireAny();
        });
        String[] ids = new String[events.size()];
        List<Integer> unconfirmed = new ArrayList<>(0);
        RuntimeException failure = null;
        for (int s = 0; s < streams.size(); s++) {
            List<Integer> order = byStream.get(streams.get(s));
            if (replies.failed(s)) {
                unconfirmed.addAll(order);
                failure = failure == null ? replies.failure(s) : failure;
                continue;
            }
            List<?> written = (List<?>) replies.get(s);
            for (int k = 0; k < order.size(); k++) {
                ids[order.get(k)] = StreamEntries.text(written.get(k));
            }
        }
        if (failure != null) {
            unconfirmed.sort(null);
            throw new PartialPublishException(java.util.Arrays.asList(ids), unconfirmed, failure);
        }
        return List.of(ids);
    }

    @Override
    public EventTransport.Consumer openConsumer(String consumerName) {
        return new PartitionedConsumer(client, partitions, consumerName);
    }

    @Override
    public Optional<LockProvider> lockProvider() {
        // Nothing to lock per key: the events of a key come out one at a time under the partition's lease.
        return Optional.empty();
    }

    @Override
    public boolean locksKeysItself() {
        return true;
    }

    @Override
    public Optional<PartitionOwnership> ownership() {
        Partitions p = partitions;
        return Optional.of(new PartitionOwnership(p.count(), p.owned(), p.share(), p.renewalFailing()));
    }

    @Override
    public Optional<RetryHolds> retryHolds() {
        KeySequencer.Holds h = partitions.sequencer.holds();
        return Optional.of(new RetryHolds(h.keys(), h.longestMillis()));
    }

    @Override
    public List<Integer> ownedPartitions() {
        return partitions.owned();
    }

    /**
     * Sums over the partitions, in two pipelined round trips. A partition read as a log keeps its
     * read position in its owner's memory only, so what is not yet read is unknown (-1) here, and
     * pending counts every entry not settled, read or not.
     */
    @Override
    public StreamStats stats() {
        return client.call("read stream statistics", () -> {
            int n = options.partitions();
            List<LongSupplier> held = new ArrayList<>(n);
            List<Response<Object>> dead = new ArrayList<>(n);
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                for (int i = 0; i < n; i++) {
                    held.add(PartitionKeys.heldMarks(p, keys.partitionHeld(i)));
                    // XLEN of a missing key is 0.
                    dead.add(p.sendCommand(new CommandArguments(Protocol.Command.XLEN).key(keys.partitionDeadLetters(i))));
                }
                p.sync();
            }
            long pending = 0;
            for (long u : PartitionKeys.unsettled(client.redis(), keys, n)) {
                pending += u;
            }
            long retries = 0;
            long deadLetters = 0;
            for (int i = 0; i < n; i++) {
                retries += held.get(i).getAsLong();
                deadLetters += StreamEntries.number(dead.get(i).get());
            }
            return new StreamStats(-1, pending, retries, deadLetters, client.publishedAgain());
        });
    }

    /**
     * A retry waits as a hold in its partition, read again by the partition's owner when due:
     * there is no retry set to move from.
     */
    @Override
    public int moveDueRetries() {
        return 0;
    }

    /** The single stream the router reads, of what its group acked. */
    @Override
    public long trim() {
        return client.trim(options.stream());
    }

    @Override
    public Optional<DelayedEvents> delayed() {
        return Optional.of(delayed);
    }

    @Override
    public Optional<Schedules> schedules() {
        return Optional.of(schedules);
    }

    @Override
    public void close() {
        // Timers first: nothing is moved into a partition while it is handed over.
        timers.close();
        partitions.close();
    }
}
