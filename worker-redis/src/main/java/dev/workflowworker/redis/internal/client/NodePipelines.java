package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.Builder;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.util.JedisClusterCRC16;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A cluster pipeline whose nodes work at once: every node's commands are flushed before any
 * node's replies are read, so the round trips overlap, and the replies are then read node after
 * node on the calling thread. No other thread touches a connection or the node map, which is
 * what made Jedis 8.0.2's parallel sync unsafe (see {@link Topology}). A node whose connection
 * fails (or cannot be had) leaves its own replies unset, which {@link Topology#isUnsetReply}
 * recognises; the other nodes' replies are read in full, and their connections go back to the
 * pool clean. A node that stops answering holds the sync up for one socket timeout, not forever.
 */
final class NodePipelines implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NodePipelines.class);

    private final RedisClusterClient cluster;
    /** Closes a timed-out node's connection off the caller's thread; null to close it here. */
    private final NodeHealth closer;
    private final Map<HostAndPort, Node> nodes = new LinkedHashMap<>();

    private static final class Node {
        final HostAndPort address;
        Connection connection;
        final List<Response<?>> replies = new ArrayList<>();
        boolean failed;
        /** Why it failed; null while it has not. */
        JedisException failure;
        /** Every reply read: only then may the connection go back to the pool. */
        boolean read;

        Node(HostAndPort address) {
            this.address = address;
        }
    }

    NodePipelines(RedisClusterClient cluster, NodeHealth closer) {
        this.cluster = cluster;
        this.closer = closer;
    }

    /** Queues {@code args} on the connection to the node serving {@code key}'s slot. */
    <T> Response<T> send(String key, CommandArguments args, Builder<T> builder) {
        return send(node(JedisClusterCRC16.getSlot(key)), args, builder);
    }

    /**
     * Queues {@code args} on the connection to {@code address}, whatever the slot map says, behind
     * {@code ASKING} when {@code asking} (an ASK redirect's importing node, see {@link AskRedirects}):
     * ASKING lets only the next command on its connection in, so the pair stays together.
     */
    <T> Response<T> sendTo(HostAndPort address, CommandArguments args, Builder<T> builder, boolean asking) {
        Node n = node(address, -1);
        if (asking) {
            send(n, new CommandArguments(Protocol.Command.ASKING), BuilderFactory.RAW_OBJECT);
        }
        return send(n, args, builder);
    }

    private <T> Response<T> send(Node n, CommandArguments args, Builder<T> builder) {
        Response<T> r = new Response<>(builder);
        n.replies.add(r);
        if (!n.failed) {
            try {
                n.connection.sendCommand(args);
            } catch (JedisException e) {
                fail(n, e);
            }
        }
        return r;
    }

    private Node node(int slot) {
        return node(Topology.nodeOf(cluster, slot), slot);
    }

    /** @param slot a slot {@code address} serves, to borrow its connection by; -1 to borrow by the address */
    private Node node(HostAndPort address, int slot) {
        Node n = nodes.get(address);
        if (n == null) {
            n = new Node(address);
            nodes.put(address, n);
            try {
                n.connection = slot >= 0 ? cluster.getConnectionFromSlot(slot) : Topology.connectionTo(cluster, address);
            } catch (JedisException e) {
                fail(n, e);
            }
        }
        return n;
    }

    /** Sends what every node has queued, then reads each node's replies. */
    void sync() {
        for (Node n : nodes.values()) {
            if (!n.failed) {
                try {
                    n.connection.getMany(0); // flushes, reads nothing: the node starts on its commands now
                } catch (JedisException e) {
                    fail(n, e);
                }
            }
        }
        for (Node n : nodes.values()) {
            if (n.failed) {
                continue;
            }
            try {
                List<Object> got = n.connection.getMany(n.replies.size());
                for (int i = 0; i < got.size(); i++) {
                    n.replies.get(i).set(got.get(i));
                }
                n.read = true;
            } catch (JedisException e) {
                fail(n, e);
            }
        }
    }

    private static void fail(Node n, JedisException e) {
        n.failed = true;
        n.failure = e;
        if (n.connection != null) {
            // Half read or half written: never back into the pool as it is.
            n.connection.setBroken();
        }
        log.debug("a cluster node's pipeline failed; its calls get no reply: {}", e.toString());
    }

    /** {@return the node of {@code reply}, when that node failed; null when it did not} */
    Topology.NodeFailure failureOf(Response<?> reply) {
        for (Node n : nodes.values()) {
            if (n.failed && n.replies.contains(reply)) {
                return new Topology.NodeFailure(n.address, n.failure);
            }
        }
        return null;
    }

    @Override
    public void close() {
        for (Node n : nodes.values()) {
            if (n.connection != null) {
                if (!n.read && !n.failed) {
                    // Closed before its sync (the caller failed while queueing): commands sent or
                    // buffered on it would be flushed with the next borrower's, who would read
                    // their replies as its own.
                    n.connection.setBroken();
                }
                if (n.failed && closer != null && Topology.timedOut(n.failure)) {
                    closer.closeLater(n.connection);
                    continue;
                }
                try {
                    n.connection.close();
                } catch (RuntimeException e) {
                    log.debug("returning a cluster connection failed: {}", e.toString());
                }
            }
        }
    }
}
