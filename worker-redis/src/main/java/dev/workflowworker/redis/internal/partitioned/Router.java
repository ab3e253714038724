package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.core.Cadence;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.PartitionRouting;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.CompactEntry;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.time.TimeKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves what producers of the seed format write to the single stream into the partitions, so
 * they keep working unchanged when the stream is partitioned. One process routes at a time (the
 * router lease, taken and renewed by the ownership rounds). Its reads of the single stream are
 * refused without the lease, and each partition's routing script skips source ids at or below
 * the partition's routed mark, which it sets with the XADDs: after a crash between routing and
 * acking, the next router re-reads the unacked entries before any new one and skips what was
 * routed, so every entry lands in its partition once and in source order.
 */
public final class Router implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(Router.class);
    private static final int BATCH = 256;
    private static final long BLOCK_MS = 500;

    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;
    /** Where a seed entry with a due time waits: the delayed store of its partition. */
    private final TimeKeys time;
    private final Partitions partitions;
    private final Cadence trim;
    private volatile boolean stopped;
    private final RouterRead read;
    /**
     * Whether the last read was of new entries ({@code >}) and found none: only then is every
     * entry of the stream up to {@link #lastSeen} delivered, so a wait for entries after it
     * misses nothing. A page of the pending list, or a read aborted by a lease change, says
     * nothing of the entries not delivered yet, which may all be older than the newest id.
     */
    private boolean caughtUp;
    /** Source ids routed by the last batch and not acked yet: the next read acks them first. */
    private List<String> routed = List.of();
    /** The lease the cursor below belongs to; a new lease re-reads the pending list from the start. */
    private Partitions.Lease cursorLease;
    private String historyCursor;
    private String lastSeen = "0-0";
    private boolean groupReady;

    Router(StreamClient client, Partitions partitions) {
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
        this.time = PartitionKeys.time(keys, options);
        this.partitions = partitions;
        this.trim = new Cadence(client.clock(), options.trimInterval(), options.trimInterval());
        this.read = new RouterRead(client, options.stream(), keys.routerLease(), keys.routerGroup());
    }

    /**
     * {@return the entries one read takes with {@code partitions} partitions} The same for any
     * count: a batch of 128 per partition cut the CPU per routed event, but the serial
     * read-route-ack loop's events/s fell to 0.43-0.49x in two of four loaded pairs (1.03-1.06x in
     * the others), so it was not taken (docs/BENCHMARKS.md, "seed19").
     */
    public static int batchFor(int partitions) {
        return BATCH;
    }

    @Override
    public void run() {
        long backoff = 0;
        while (!stopped) {
            Partitions.Lease lease = partitions.routerLease();
            try {
                if (lease == null || lease.lost || !partitions.layoutChecked()) {
                    partitions.awaitRouterLease(BLOCK_MS);
                    continue;
                }
                if (routeOnce(lease) == 0 && caughtUp) {
                    block();
                }
                if (trim.tryFire()) {
                    client.scripts().trim.eval(client.redis(), List.of(options.stream()), List.of());
                }
                backoff = 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (stopped) {
                    return;
                }
                backoff = Math.min(5_000, Math.max(100, backoff * 2));
                log.warn("routing {} into its partitions failed; retrying in {} ms: {}", options.stream(), backoff,
                        e.toString());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Routes one batch; returns how many source entries it handled. */
    int routeOnce(Partitions.Lease lease) {
        try {
            return routeBatch(lease);
        } catch (RuntimeException e) {
            // Whatever was read and not acked is in the pending list: read it again first, so
            // nothing later is routed ahead of it (the routed marks would then skip it).
            historyCursor = "0-0";
            throw e;
        }
    }

    private int routeBatch(Partitions.Lease lease) {
        ensureGroup();
        if (cursorLease != lease) {
            cursorLease = lease;
            historyCursor = "0-0";
        }
        String start = historyCursor != null ? historyCursor : ">";
        List<String> acks = routed;
        routed = List.of();
        caughtUp = false;
        RouterRead.Batch batch;
        try {
            // Never repeated, and after a failure the pending list is read again from its start:
            // a read whose reply was lost still moved its entries into the pending list, and
            // routing later entries first would put them out of order (and the routed mark would
            // then skip the earlier ones). The acks of the previous batch go in its first round
            // trip; an ack that was lost leaves its entries pending, to be read again and skipped
            // by the routed marks.
            batch = read.read(acks, lease.value, BATCH, start);
        } catch (RuntimeException e) {
            historyCursor = "0-0";
            throw e;
        }
        if (batch == null) {
            partitions.routerLost(lease, "a read was refused");
            return 0;
        }
        if (batch.newest() == null) {
            // Aborted each time by lease changes: read again at once (the next round checks the
            // lease), never wait, as entries older than lastSeen may not be delivered yet.
            return 0;
        }
        List<?> entries = batch.entries();
        lastSeen = batch.newest();
        if (entries.isEmpty()) {
            // An empty page of the pending list is followed at once by a read of new entries.
            caughtUp = historyCursor == null;
            historyCursor = null;
            return 0;
        }
        // Per partition, the wake channel and the partition number, then in source order the
        // entries' ids, field counts and fields (or a delayed entry's record, see SeedDelays).
        Map<Integer, List<Object>> byPartition = new LinkedHashMap<>();
        List<String> ids = new ArrayList<>(entries.size());
        String wake = time.wake();
        for (Object e : entries) {
            List<?> entry = (List<?>) e;
            String id = StreamEntries.text(entry.get(0));
            ids.add(id);
            if (!(entry.get(1) instanceof List<?> raw) || raw.isEmpty()) {
                continue;
            }
            Seed seed = Seed.of(raw);
            int p = PartitionRouting.partitionOf(seed.lockKey(), partitions.count());
            List<Object> args = byPartition.computeIfAbsent(p,
                    k -> new ArrayList<>(List.of(wake, Integer.toString(k))));
            List<Object> delayed = seed.delayed ? SeedDelays.record(id, raw, client.codec()) : null;
            if (delayed != null) {
                args.addAll(delayed);
                continue;
            }
            args.add(id);
            // The raw bytes, not decoded text: an entry that is not valid UTF-8 must reach its
            // consumer as it is, to be dead-lettered with the reason, not repaired on the way.
            byte[] compact = CompactEntry.fromRaw(raw);
            if (compact != null) {
                args.add("2");
                args.add(CompactEntry.FIELD);
                args.add(compact);
            } else {
                args.add(Integer.toString(raw.size()));
                args.addAll(raw);
            }
        }
        if (historyCursor != null) {
            historyCursor = ids.get(ids.size() - 1);
        }
        if (!byPartition.isEmpty()) {
            List<Integer> order = new ArrayList<>(byPartition.keySet());
            client.call("route " + ids.size() + " entries", () -> client.scripts().route.evalAll(
                    client.redis(), order.size(),
                    i -> List.of(keys.partitionStream(order.get(i)), keys.partitionRouted(order.get(i)),
                            time.delayed(order.get(i)), time.delayedEntries(order.get(i))),
                    i -> byPartition.get(order.get(i)), client.waitReplicas(), client.waitMs(),
                    client.newsWakes(i -> keys.partitionStream(order.get(i)))));
        }
        // Acked with the next read, or on the next batch's first round trip after a wait.
        routed = ids;
        return ids.size();
    }

    /**
     * What the router reads of an entry's raw fields: its lock key, {@code execution_id} when not
     * empty (the seed writes {@code ''} for an absent field), else {@code event_id}; and whether
     * it has a non-empty {@code due_at}.
     */
    private record Seed(String execution, String event, boolean delayed) {

        static Seed of(List<?> raw) {
            String execution = null;
            String event = null;
            boolean delayed = false;
            for (int i = 0; i + 1 < raw.size(); i += 2) {
                String name = StreamEntries.text(raw.get(i));
                if (WireFormat.EXECUTION_ID.equals(name)) {
                    execution = StreamEntries.text(raw.get(i + 1));
                } else if (WireFormat.EVENT_ID.equals(name)) {
                    event = StreamEntries.text(raw.get(i + 1));
                } else if (WireFormat.DUE_AT.equals(name)) {
                    delayed = !StreamEntries.text(raw.get(i + 1)).isEmpty();
                }
            }
            return new Seed(execution, event, delayed);
        }

        String lockKey() {
            if (execution != null && !execution.isEmpty()) {
                return execution;
            }
            return event != null ? event : "";
        }
    }

    private void ensureGroup() {
        if (groupReady) {
            return;
        }
        client.call("create the router's group", () -> client.createGroup(options.stream(), keys.routerGroup(), "0"));
        groupReady = true;
    }

    /** Waits on Redis for a new entry in the single stream, up to a short block. */
    private void block() {
        try {
            read.block(lastSeen, BLOCK_MS);
        } catch (RuntimeException e) {
            if (!stopped) {
                throw e;
            }
        }
    }

    void stop() {
        stopped = true;
        read.close();
    }
}
