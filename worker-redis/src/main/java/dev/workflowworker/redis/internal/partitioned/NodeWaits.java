package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.internal.client.Replies;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The idle wait of a partitioned stream on a Redis Cluster: one waiter per node, whatever the
 * number of partitions. A cluster refuses an XREAD whose streams lie in different slots, and
 * every partition has a slot of its own; so rather than block on the streams, the reader
 * listens on each owned partition's news channel (sharded pub/sub, which lives on the
 * partition's node), which publishers announce their writes on. One connection and one thread
 * per node hold every owned partition's subscription there.
 *
 * <p>A wake can be lost (a publisher that died between its write and its wake, a producer that
 * writes to a partition stream itself, a subscription moving after a failover). That costs
 * latency only: while the reader waits, it reads one entry past each cursor, one pipelined round
 * trip per node, every {@link #SWEEP_MS} while every subscription it waits on is confirmed and
 * answers its pings, every {@link #POLL_MS} while one is not (being made, failed, or silent). See
 * docs/ARCHITECTURE.md, "Redis Cluster".
 */
final class NodeWaits implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NodeWaits.class);

    /**
     * The most a lost wake delays an entry while a subscription the reader waits on is not in
     * place (being made, failed, or its PING unanswered): the partitions are polled this often.
     */
    static final long POLL_MS = 100;
    /**
     * The most a lost wake delays an entry while every subscription is in place, as the timers
     * loop's look at every held partition once a second. A poll is a round trip per node: at
     * {@link #POLL_MS} an idle reader sent ten a second to each master, the largest part of what
     * an idle process costs a cluster and the part that grew with the number of masters
     * (docs/BENCHMARKS.md, "clu19").
     */
    static final long SWEEP_MS = 1000;
    /** How often a waiting reader pings each node's subscription, to find a connection whose peer vanished. */
    static final long PING_MS = 1000;
    private static final String SUFFIX = StreamKeys.newsChannel("");

    private final StreamClient client;
    private final PartitionProbe probe;
    private final BooleanSupplier readyHere;
    private final ExecutorService threads;
    private final Map<HostAndPort, NodeSubscription> nodes = new ConcurrentHashMap<>();
    private final Object signal = new Object();
    /** Partition streams announced since the reader last took them; guarded by {@link #signal}. */
    private final Set<String> news = new HashSet<>();
    /** A wait cut short by a ready delivery; guarded by {@link #signal}. */
    private boolean woken;
    /** Wakes may have been missed (a subscription failed): the reader reads every partition; guarded by {@link #signal}. */
    private boolean all;
    private volatile boolean closed;
    private volatile boolean unsupported;
    /** When the reader last polled, on the monotonic clock; reader thread only. */
    private long polledAt;
    /** Whether the last {@link #subscribe} found a node for every partition waited on; reader thread only. */
    private boolean placed;

    NodeWaits(StreamClient client, PartitionProbe probe, BooleanSupplier readyHere) {
        this.client = client;
        this.probe = probe;
        this.readyHere = readyHere;
        this.threads = client.threads().cached("partition-wait");
    }

    /** {@return true once close began} */
    boolean closed() {
        return closed;
    }

    /** A node refused SSUBSCRIBE: from now on the reader waits per partition, told so at once. */
    void refusedSubscribe(HostAndPort node, String why) {
        if (!unsupported) {
            unsupported = true;
            log.info("Redis at {} refused SSUBSCRIBE ({}); the partitioned reader waits per partition instead",
                    node, why);
        }
        readAll();
    }

    /** {@return true once a node refused SSUBSCRIBE (older than Redis 7, or not permitted)}: wait per partition instead */
    boolean unsupported() {
        return unsupported;
    }

    /** A delivery became ready here: end the reader's wait. */
    void wake() {
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    /**
     * Waits up to {@code ms} for a new entry after {@code ids[i]} in partition stream {@code keys[i]},
     * or for a wake.
     *
     * @return the streams announced (empty after a wake or the timeout), or null when wakes may
     *     have been missed: the reader then reads them all
     */
    List<String> await(List<String> keys, List<String> ids, long ms) throws InterruptedException {
        synchronized (signal) {
            woken = false;
        }
        if (readyHere.getAsBoolean()) {
            return List.of();
        }
        subscribe(keys);
        long deadline = now() + ms;
        while (true) {
            // Read outside the signal's monitor: the subscriptions' monitors are never taken inside it.
            long every = inPlace() ? SWEEP_MS : POLL_MS;
            synchronized (signal) {
                long left;
                while (news.isEmpty() && !all && !woken && !closed && !unsupported
                        && (left = Math.min(deadline, polledAt + every) - now()) > 0) {
                    signal.wait(left);
                }
                if (all || unsupported) {
                    all = false;
                    news.clear();
                    return null;
                }
                if (!news.isEmpty()) {
                    List<String> out = new ArrayList<>(news);
                    news.clear();
                    return out;
                }
                if (woken || closed) {
                    return List.of();
                }
            }
            if (now() >= deadline) {
                return List.of();
            }
            List<String> found = poll(keys, ids);
            polledAt = now();
            if (found == null || !found.isEmpty()) {
                return found;
            }
        }
    }

    /**
     * Reads one entry past each cursor, a pipelined round trip per node: what a lost wake left.
     *
     * @return the streams that have one; null if the reads failed (the reader's own reads then tell why)
     */
    private List<String> poll(List<String> keys, List<String> ids) {
        try {
            Replies replies = Topology.sendEach(client.redis(), keys.size(),
                    i -> new CommandArguments(Protocol.Command.XREAD).add("COUNT").add(1).add("STREAMS")
                            .key(keys.get(i)).add(ids.get(i)),
                    keys::get, (i, e) -> false, 0, 0, () -> "poll partitions", null, true, client.nodes());
            if (!replies.failedNodes().isEmpty()) {
                // Reported, so left out of the reader's rounds until it answers a probe; the
                // reader's own reads then tell what the other nodes hold.
                return null;
            }
            List<String> found = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                if (replies.get(i) instanceof List<?> l && !l.isEmpty()) {
                    found.add(keys.get(i));
                }
            }
            return found;
        } catch (RuntimeException e) {
            log.debug("polling the partitions failed: {}", e.toString());
            return null;
        }
    }

    /**
     * Whether every partition waited on has a node, and every node's subscription confirmed all its
     * channels and answered its last PING (or was pinged only a moment ago): only then may a wake
     * be relied on and the poll slow down to {@link #SWEEP_MS}.
     */
    private boolean inPlace() {
        if (!placed) {
            return false;
        }
        long now = now();
        for (NodeSubscription n : nodes.values()) {
            if (!n.inPlace(now)) {
                return false;
            }
        }
        return true;
    }

    /** Brings each node's subscriptions in line with the partitions the reader waits for. */
    private void subscribe(List<String> keys) {
        Map<HostAndPort, Set<String>> wanted = new HashMap<>();
        placed = true;
        for (String k : keys) {
            try {
                wanted.computeIfAbsent(Topology.nodeOf(client.redis(), JedisClusterCRC16.getSlot(k)),
                        n -> new HashSet<>()).add(StreamKeys.newsChannel(k));
            } catch (RuntimeException e) {
                // No node known for the slot right now: the poll covers the partition meanwhile.
                placed = false;
                log.debug("no node for {}: {}", k, e.toString());
            }
        }
        for (NodeSubscription n : nodes.values()) {
            if (!wanted.containsKey(n.address)) {
                n.want(Set.of());
            }
        }
        for (Map.Entry<HostAndPort, Set<String>> e : wanted.entrySet()) {
            nodes.computeIfAbsent(e.getKey(), a -> new NodeSubscription(a, this, client, probe, threads)).want(e.getValue());
        }
        nodes.values().removeIf(NodeSubscription::gone);
    }

    /** A node's subscription announced new entries in {@code stream}. */
    void announce(String stream) {
        synchronized (signal) {
            news.add(stream);
            signal.notifyAll();
        }
    }

    /** A node's subscription may have missed wakes: the reader reads every partition. */
    void readAll() {
        synchronized (signal) {
            all = true;
            signal.notifyAll();
        }
    }

    long now() {
        return TimeUnit.NANOSECONDS.toMillis(client.clock().nanoTime());
    }

    /** {@return the partition stream a news channel announces} */
    static String streamOf(String channel) {
        return channel.endsWith(SUFFIX) ? channel.substring(0, channel.length() - SUFFIX.length()) : channel;
    }

    @Override
    public void close() {
        closed = true;
        wake();
        for (NodeSubscription n : nodes.values()) {
            n.close();
        }
        threads.shutdownNow();
    }
}
