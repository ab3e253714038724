package dev.workflowworker.redis.internal.client;

import dev.workflowworker.core.TimeSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.providers.ClusterConnectionProvider;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The cluster nodes whose connection failed lately, which the reader's rounds leave out until a
 * probe of their own reaches them again: a hung node would otherwise hold every round (and so
 * every live node's partitions) up for a socket timeout. A probe is a PING on a new connection,
 * bounded by the connect and socket timeouts, on a thread of its own, at most one per node at a
 * time and {@link #PROBE_EVERY_MS} apart; it starts when a round asks about a node that is down.
 * On one server nothing is ever down here: a failure there fails the whole call. See
 * docs/ARCHITECTURE.md, "Redis Cluster".
 */
public final class NodeHealth implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NodeHealth.class);

    /** The least time from the end of one probe of a node to the start of the next. */
    static final long PROBE_EVERY_MS = 200;

    private final UnifiedJedis redis;
    private final RedisConnector connector;
    private final TimeSource clock;
    private final TransportThreads threads;
    private final Map<HostAndPort, Down> down = new ConcurrentHashMap<>();
    private volatile ExecutorService probes;
    private volatile boolean closed;
    /** When the down list is next checked against the slot map, in nanoseconds of the monotonic clock. */
    private volatile long sweepAt;

    /** A down node's probe state; guarded by the NodeHealth, the one monitor of this class. */
    private static final class Down {
        /**
         * When a probe may start, in nanoseconds of the monotonic clock. Starts at
         * the failure's reading, not 0: a monotonic reading means something only as a difference,
         * and a host's clock may read below zero, where a 0 would never come due.
         */
        long probeAt;
        boolean probing;

        Down(long now) {
            this.probeAt = now;
        }
    }

    NodeHealth(UnifiedJedis redis, RedisConnector connector, TimeSource clock, TransportThreads threads) {
        this.redis = redis;
        this.connector = connector;
        this.clock = clock;
        this.threads = threads;
    }

    /** {@code node}'s connection failed: rounds leave it out until a probe reaches it. */
    public void failed(HostAndPort node, String what) {
        long now = clock.nanoTime();
        if (down.putIfAbsent(node, new Down(now)) == null) {
            sweepAt = now + TimeUnit.MILLISECONDS.toNanos(PROBE_EVERY_MS);
            log.warn("cluster node {} failed ({}); its partitions are left out of reads until it answers a PING",
                    node, what);
        }
    }

    /**
     * A call not sent because its node is down: it surely did not run. Not sent again by
     * {@link StreamClient#call} either; the node's probe, not a caller's retry, finds it back.
     */
    public static final class NodeDown extends redis.clients.jedis.exceptions.JedisConnectionException {
        NodeDown(String key) {
            super("the cluster node serving " + key + " is down (it failed lately and has not answered a probe since)");
        }
    }

    /** {@return why a call on {@code key} is not sent, its node being down; null if it may be sent} */
    RuntimeException downFailure(String key) {
        return anyDown() && isDown(key) ? new NodeDown(key) : null;
    }

    /**
     * {@return true if {@code e} says a node timed out or is down}: asking it again, or re-reading
     * the slot map (which may ask it), would most likely wait as long again
     */
    static boolean hungOrDown(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NodeDown) {
                return true;
            }
        }
        return Topology.timedOut(e);
    }

    /** {@return true if some node is down}: only then is it worth locating keys */
    public boolean anyDown() {
        if (down.isEmpty()) {
            return false;
        }
        long now = clock.nanoTime();
        if (now - sweepAt >= 0) {
            sweepAt = now + TimeUnit.MILLISECONDS.toNanos(PROBE_EVERY_MS);
            forgetReplaced();
        }
        return !down.isEmpty();
    }

    /**
     * Forgets the down nodes that serve no slot by the client's slot map any more: a failover put
     * a replica in their place. No key leads to them, so no probe would ever start, and while one
     * is listed every round locates each of its keys for nothing. A map that cannot be read
     * forgets nothing.
     */
    private void forgetReplaced() {
        ClusterConnectionProvider provider = redis instanceof RedisClusterClient cluster
                ? Topology.providerOf(cluster) : null;
        Set<String> primaries;
        try {
            primaries = provider == null ? Set.of() : provider.getPrimaryNodes().keySet(); // of a copy
        } catch (RuntimeException e) {
            return;
        }
        if (primaries.isEmpty()) {
            return; // Not discovered yet, or unreadable.
        }
        for (HostAndPort node : down.keySet()) {
            if (!primaries.contains(node.toString()) && down.remove(node) != null) {
                log.info("cluster node {} serves no slots any more (failed over); no longer left out", node);
            }
        }
    }

    /** {@return true if the node serving {@code key}'s slot is down}; starts a probe of it when one is due */
    public boolean isDown(String key) {
        if (down.isEmpty() || !(redis instanceof RedisClusterClient)) {
            return false;
        }
        HostAndPort node;
        try {
            node = Topology.nodeOf(redis, JedisClusterCRC16.getSlot(key));
        } catch (RuntimeException e) {
            return false;
        }
        Down d = down.get(node);
        if (d == null) {
            return false;
        }
        boolean start;
        synchronized (this) {
            start = !d.probing && clock.nanoTime() - d.probeAt >= 0;
            d.probing |= start;
        }
        if (start) {
            probe(node, d);
        }
        return true;
    }

    private void probe(HostAndPort node, Down d) {
        try {
            probes().execute(() -> {
                boolean up = false;
                try (Connection c = connector.newConnection(node)) {
                    up = c.ping();
                } catch (redis.clients.jedis.exceptions.JedisDataException answered) {
                    // An error reply is an answer: an ACL user without the ping permission (NOPERM).
                    up = true;
                } catch (RuntimeException e) {
                    log.debug("probe of cluster node {} failed: {}", node, e.toString());
                }
                if (up) {
                    // Connections pooled before it failed may be half read or closed by now.
                    Topology.clearNode(redis, node);
                    down.remove(node, d);
                    log.info("cluster node {} answers again; its partitions are read again", node);
                }
                synchronized (NodeHealth.this) {
                    d.probing = false;
                    d.probeAt = clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROBE_EVERY_MS);
                }
            });
        } catch (RejectedExecutionException closing) {
            synchronized (this) {
                d.probing = false;
            }
        }
    }

    /**
     * Closes a broken connection to a node that timed out, on a probe thread: the pool then opens
     * one in its place, which to a hung node waits out a socket timeout.
     */
    void closeLater(Connection c) {
        try {
            probes().execute(() -> closeQuietly(c));
        } catch (RejectedExecutionException closing) {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            log.debug("closing a timed-out cluster connection failed: {}", e.toString());
        }
    }

    private ExecutorService probes() {
        ExecutorService p = probes;
        if (p == null) {
            synchronized (this) {
                if (closed) {
                    throw new RejectedExecutionException("closed");
                }
                p = probes;
                if (p == null) {
                    p = threads.cached("node-probe");
                    probes = p;
                }
            }
        }
        return p;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (probes != null) {
                probes.shutdownNow();
            }
        }
    }
}
