package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.PartitionRouting;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Delayed events of a partitioned stream, from any process: each waits in the partition its lock
 * key routes to, under that partition's hash tag, until the partition's owner moves it into the
 * stream ({@link PartitionTimers}). See docs/ARCHITECTURE.md, "Time".
 */
final class PartitionedDelayed implements DelayedEvents {

    /**
     * Fixed width, so the scripts can write the due time Redis settles on in place of the
     * publisher's estimate without changing the packed entry's lengths.
     */
    static final DateTimeFormatter DUE_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** Due times a fixed-width header can hold: years 0000 to 9999. */
    private static final long LATEST = 253_402_300_799_999L;

    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;

    PartitionedDelayed(StreamClient client) {
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
    }

    @Override
    public String publishAt(WorkflowEvent event, Instant dueAt) {
        Objects.requireNonNull(dueAt, "dueAt");
        return add(event, "at", dueAt.toEpochMilli(), dueAt.toEpochMilli());
    }

    /** The delay counts from Redis TIME when the script runs; the header holds the publisher's estimate until then. */
    @Override
    public String publishAfter(WorkflowEvent event, Duration delay) {
        Objects.requireNonNull(delay, "delay");
        long ms = Math.max(0, delay.toMillis());
        return add(event, "after", ms, client.clock().wallMillis() + ms);
    }

    private String add(WorkflowEvent event, String mode, long value, long estimate) {
        Objects.requireNonNull(event, "event");
        if (estimate < 0 || estimate > LATEST) {
            throw new IllegalArgumentException("due time " + estimate + " ms is outside years 1970 to 9999");
        }
        client.checkOpen();
        Map<String, String> headers = new HashMap<>(event.headers());
        headers.put(DUE_AT_HEADER, DUE_FORMAT.format(Instant.ofEpochMilli(estimate)));
        WorkflowEvent withDue = event.toBuilder().headers(headers).build();
        String packed = pack(client.codec().encode(withDue, 1));
        int p = PartitionRouting.partitionOf(event.lockKey(), options.partitions());
        client.call("publish delayed event " + event.eventId(), () -> client.scripts().delayedAdd.eval(client.redis(),
                List.of(PartitionKeys.delayed(keys, p), PartitionKeys.delayedEntries(keys, p)),
                List.of(event.eventId(), mode, Long.toString(value), packed, PartitionKeys.timeWake(options),
                        Integer.toString(p)), client.waitReplicas(), client.waitMs()));
        return event.eventId();
    }

    /**
     * Asks every partition, in one pipelined round trip per node: the caller has the event id
     * only, not the lock key that placed it. An id waits in at most one partition.
     */
    @Override
    public boolean cancel(String eventId) {
        Objects.requireNonNull(eventId, "eventId");
        return any(client.call("cancel delayed event " + eventId, () -> client.scripts().delayedCancel.evalAll(
                client.redis(), options.partitions(),
                i -> List.of(PartitionKeys.delayed(keys, i), PartitionKeys.delayedEntries(keys, i)),
                i -> List.of(eventId), client.waitReplicas(), client.waitMs())));
    }

    @Override
    public boolean reschedule(String eventId, Instant dueAt) {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(dueAt, "dueAt");
        long ms = dueAt.toEpochMilli();
        if (ms < 0 || ms > LATEST) {
            throw new IllegalArgumentException("due time " + dueAt + " is outside years 1970 to 9999");
        }
        String wake = PartitionKeys.timeWake(options);
        return any(client.call("reschedule delayed event " + eventId, () -> client.scripts().delayedReschedule.evalAll(
                client.redis(), options.partitions(),
                i -> List.of(PartitionKeys.delayed(keys, i), PartitionKeys.delayedEntries(keys, i)),
                i -> List.of(eventId, Long.toString(ms), wake, Integer.toString(i)),
                client.waitReplicas(), client.waitMs())));
    }

    @Override
    public long waiting() {
        long n = 0;
        for (long w : waitingPerPartition()) {
            n += w;
        }
        return n;
    }

    /** {@return the events waiting in each partition} One pipelined round trip per node. */
    long[] waitingPerPartition() {
        int n = options.partitions();
        return client.call("count delayed events", () -> {
            List<Response<Long>> counts = new ArrayList<>(n);
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                for (int i = 0; i < n; i++) {
                    counts.add(p.zcard(PartitionKeys.delayed(keys, i)));
                }
                p.sync();
            }
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = counts.get(i).get();
            }
            return out;
        });
    }

    private static boolean any(List<Object> replies) {
        for (Object r : replies) {
            if (StreamEntries.number(r) == 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * The packing the scripts unpack: each field and value as its UTF-8 byte length, a colon, and
     * its bytes, so a value may hold any character without escaping.
     */
    static String pack(Map<String, String> fields) {
        StringBuilder b = new StringBuilder(256);
        for (Map.Entry<String, String> f : fields.entrySet()) {
            append(b, f.getKey());
            append(b, f.getValue());
        }
        return b.toString();
    }

    private static void append(StringBuilder b, String s) {
        b.append(s.getBytes(StandardCharsets.UTF_8).length).append(':').append(s);
    }
}
